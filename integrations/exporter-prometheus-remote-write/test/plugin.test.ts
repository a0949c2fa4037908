import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { isSextantPlugin, parseManifest, type ExporterFactory } from '@sextant/plugin-api';
import { resolveConfig } from '@sextant/testkit';
import plugin from '../src/plugin.js';
import { federationExporterFactory, remoteWriteExporterFactory } from '../src/index.js';

describe('plugin package', () => {
  it('default-exports a plugin that registers the "prometheus-remote-write" and "prometheus-federation" exporter factories', async () => {
    expect(isSextantPlugin(plugin)).toBe(true);
    const added: ExporterFactory<unknown>[] = [];
    await plugin.register({ exporters: { addFactory: (f: ExporterFactory<unknown>) => added.push(f) } });
    expect(added.map((f) => [f.type, f.stability])).toEqual([['prometheus-remote-write', 'alpha'], ['prometheus-federation', 'alpha']]);
  });

  it('has a valid manifest that provides an exporter', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    const result = parseManifest(pkg.sextant);
    expect(result).toMatchObject({ ok: true, manifest: { provides: ['exporter'] } });
    expect(JSON.stringify(pkg)).not.toContain('@sextant/runtime');
  });

  it('lists every configuration problem at once', async () => {
    await expect(resolveConfig(remoteWriteExporterFactory, { url: '127.0.0.1:9090', keep: ['/(/'], queue: { maxBytes: 2 << 20, segmentBytes: 2 << 20 } })).rejects.toThrow(
      /url: must be an http\(s\) URL.*keep\[0\]: is not a valid glob or \/regex\//s,
    );
    await expect(resolveConfig(remoteWriteExporterFactory, { url: 'http://x/api/v1/write', queue: { maxBytes: 2 << 20, segmentBytes: 2 << 20 } })).rejects.toThrow('queue.segmentBytes: must be at most half of queue.maxBytes');
  });

  it('README documents every config key of both exporters', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    for (const factory of [remoteWriteExporterFactory, federationExporterFactory]) {
      for (const k of Object.keys((factory.configJsonSchema as { properties: Record<string, unknown> }).properties)) {
        expect(readme.includes(`| \`${k}\``) || readme.includes(`\`${k}\` /`) || readme.includes(`/ \`${k}\``), k).toBe(true);
      }
    }
  });
});
