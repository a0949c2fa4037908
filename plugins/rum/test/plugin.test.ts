import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSextantPlugin, parseManifest, type CollectorFactory } from '@sextant/plugin-api';
import plugin from '../src/plugin.js';
import { RUM_METRICS, renderMetricsTable } from '../src/index.js';
// @ts-expect-error plain JS build script without types
import { buildSnippet, SNIPPET_BUDGET_GZIP_BYTES } from '../build-snippet.mjs';

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

  it('bundles the snippet within its 6 KB min+gzip budget, web-vitals notice included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sextant-rum-snippet-'));
    try {
      const report = (await buildSnippet(dir)) as { files: Record<string, { gzipBytes: number }> };
      expect(SNIPPET_BUDGET_GZIP_BYTES).toBe(6144);
      for (const [file, size] of Object.entries(report.files)) expect(size.gzipBytes, file).toBeLessThanOrEqual(6144);
      const script = await readFile(join(dir, 'sextant-rum.js'), 'utf8');
      expect(script).toMatch(/^\/\*! .*web-vitals \(Apache-2.0, Google LLC\)/);
      expect(script).toContain('sendBeacon');
      expect(script).not.toMatch(/document\.cookie/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
