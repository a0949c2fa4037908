import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { isSextantPlugin, parseManifest, type CollectorFactory } from '@sextant/plugin-api';
import plugin from '../src/plugin.js';
import { renderMetricsTable } from '../src/index.js';

describe('plugin package', () => {
  it('registers the alpha "magento" collector factory and has a valid manifest', async () => {
    expect(isSextantPlugin(plugin)).toBe(true);
    const added: CollectorFactory<unknown>[] = [];
    await plugin.register({ collectors: { addFactory: (f: CollectorFactory<unknown>) => added.push(f) } });
    expect(added.map((f) => [f.type, f.stability])).toEqual([['magento', 'alpha']]);
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    expect(parseManifest(pkg.sextant).ok).toBe(true);
    expect(JSON.stringify(pkg)).not.toContain('@sextant/runtime');
  });

  it('README metrics table matches src/metrics.ts and says the tests use a stand-in', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(renderMetricsTable());
    expect(readme).toMatch(/strict local\s+stand-in/);
  });
});
