import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { isSextantPlugin, parseManifest, type CollectorFactory } from '@sextant/plugin-api';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import plugin from '../src/plugin.js';
import { prometheusCollectorFactory } from '../src/index.js';
import { serve } from './http-fixture.js';

const exporter = await serve((_req, res) => {
  res.setHeader('content-type', 'text/plain; version=0.0.4');
  res.end('# TYPE jobs_processed_total counter\njobs_processed_total{queue="mail"} 12\n# TYPE queue_depth gauge\nqueue_depth 3\n');
});
afterAll(() => exporter.close());

describeCollectorConformance(prometheusCollectorFactory, {
  config: { url: exporter.url },
  invalid: { config: { url: 'ftp://example' }, path: 'prometheus.url' },
});

describe('plugin package', () => {
  it('default-exports a plugin that registers the "prometheus" collector factory', async () => {
    expect(isSextantPlugin(plugin)).toBe(true);
    const added: CollectorFactory<unknown>[] = [];
    await plugin.register({ collectors: { addFactory: (f: CollectorFactory<unknown>) => added.push(f) } });
    expect(added.map((f) => [f.type, f.stability])).toEqual([['prometheus', 'alpha']]);
    expect(added[0].configJsonSchema).toMatchObject({ type: 'object', properties: { url: { type: 'string' }, sampleLimit: { type: 'integer' } } });
  });

  it('has a discovery rule for containers labelled prometheus.io/scrape=true, with port/path/scheme labels and defaults', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    const result = parseManifest(pkg.sextant);
    expect(result.ok).toBe(true);
    const rule = result.ok ? result.manifest.discovery![0] : undefined;
    expect(rule).toMatchObject({
      factory: 'prometheus',
      labels: { 'prometheus.io/scrape': 'true' },
      config: { url: "{{labels.prometheus.io/scheme | 'http'}}://{{host}}:{{labels.prometheus.io/port | port}}{{labels.prometheus.io/path | '/metrics'}}" },
    });
    expect(rule?.images).toBeUndefined();
    expect(JSON.stringify(pkg)).not.toContain('@sextant/runtime');
  });

  it('README documents every config key of the schema', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const keys = Object.keys((prometheusCollectorFactory.configJsonSchema as { properties: Record<string, unknown> }).properties);
    for (const k of keys) expect(readme, k).toContain(`| \`${k}\``);
  });
});
