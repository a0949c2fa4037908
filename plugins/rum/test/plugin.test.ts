import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { isSextantPlugin, parseManifest, type CollectorFactory } from '@sextant/plugin-api';
import plugin from '../src/plugin.js';
import { RUM_METRICS, renderMetricsTable } from '../src/index.js';

describe('plugin package', () => {
  it('default-exports a plugin that registers the alpha "rum" collector factory', async () => {
    expect(isSextantPlugin(plugin)).toBe(true);
    const added: CollectorFactory<unknown>[] = [];
    await plugin.register({ collectors: { addFactory: (f: CollectorFactory<unknown>) => added.push(f) } });
    expect(added.map((f) => [f.type, f.stability])).toEqual([['rum', 'alpha']]);
    expect(added[0].configJsonSchema).toMatchObject({ type: 'object', properties: { allowedOrigins: { type: 'array' } } });
  });

  it('has a valid manifest, a peer dependency on the plugin API and no runtime dependency', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    expect(parseManifest(pkg.sextant).ok).toBe(true);
    expect(pkg.peerDependencies['@sextant/plugin-api']).toBeDefined();
    expect(JSON.stringify(pkg)).not.toContain('@sextant/runtime');
    // web-vitals is bundled into the snippet at build time, not a runtime dependency
    expect(pkg.dependencies['web-vitals']).toBeUndefined();
    expect(pkg.devDependencies['web-vitals']).toBeDefined();
  });

  it('README metrics table matches src/metrics.ts, and every series is business or user impact', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const table = renderMetricsTable();
    expect(readme, `README.md must contain exactly this table:\n\n${table}\n`).toContain(table);
    for (const info of Object.values(RUM_METRICS)) expect(['business', 'user']).toContain(info.impact);
  });
});
