import { readFileSync } from 'node:fs';
import { parseManifest, type CollectorFactory, type CollectorsExtensionPoint } from '@sextant/plugin-api';
import { resolveConfig } from '@sextant/testkit';
import { describe, expect, it } from 'vitest';
import plugin from '../src/plugin.js';
import { hostCollectorFactory } from '../src/index.js';

describe('host plugin and configuration', () => {
  it('registers the host collector factory through the collectors extension point', async () => {
    const added: CollectorFactory<any>[] = [];
    const collectors: CollectorsExtensionPoint = { addFactory: (f) => void added.push(f) };
    expect(plugin.pluginId).toBe('host');
    expect(Object.keys(plugin.deps)).toEqual(['collectors']);
    await plugin.register({ collectors });
    expect(added.map((f) => [f.type, f.stability])).toEqual([['host', 'beta']]);
    expect(added[0]).toBe(hostCollectorFactory);
  });

  it('declares a valid manifest in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const result = parseManifest(pkg.sextant);
    expect(result).toEqual({ ok: true, manifest: { plugin: './dist/plugin.js', protocol: [1], provides: ['collector'], stability: 'beta' } });
  });

  it('accepts an empty config and fills every default', async () => {
    const config = await resolveConfig(hostCollectorFactory, {});
    expect(config).toMatchObject({ procRoot: '/proc', sysRoot: '/sys', hostRoot: '/', perCpu: true });
    expect(config.disks.exclude).toEqual(['loop*', 'ram*']);
    expect(config.filesystems.exclude).toContain('tmpfs');
    expect(config.networks.exclude).toEqual([]);
  });

  it('reads durations and replaces lists instead of merging them', async () => {
    const config = await resolveConfig(hostCollectorFactory, { filesystems: { timeout: '5s' }, networks: { exclude: ['lo', 'veth*'] } });
    expect(config.filesystems.timeout).toBe(5000);
    expect(config.filesystems.exclude).toContain('overlay');
    expect(config.networks.exclude).toEqual(['lo', 'veth*']);
  });

  it('lists every problem of a bad config with its path', async () => {
    const error = await resolveConfig(hostCollectorFactory, {
      procRoot: 'proc',
      percpu: false,
      counterBits: 16,
      filesystems: { timeout: 'soon' },
    }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    const message = String((error as Error).message);
    expect(message).toContain('host.procRoot: procRoot must be an absolute path');
    expect(message).toMatch(/host(\.\(root\))?: .*percpu/i);
    expect(message).toContain('host.counterBits');
    expect(message).toContain('host.filesystems.timeout');
  });
});
