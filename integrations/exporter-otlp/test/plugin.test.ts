import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { isSextantPlugin, parseManifest, type ExporterFactory, type NotifierFactory } from '@sextant/plugin-api';
import { resolveConfig } from '@sextant/testkit';
import plugin from '../src/plugin.js';
import { otlpExporterFactory, otlpLogsNotifierFactory } from '../src/index.js';

describe('plugin package', () => {
  it('default-exports a plugin that registers the "otlp" exporter and the "otlp-logs" notifier', async () => {
    expect(isSextantPlugin(plugin)).toBe(true);
    const exporters: ExporterFactory<unknown>[] = [];
    const notifiers: NotifierFactory<unknown>[] = [];
    await plugin.register({ exporters: { addFactory: (f: ExporterFactory<unknown>) => exporters.push(f) }, notifiers: { addFactory: (f: NotifierFactory<unknown>) => notifiers.push(f) } });
    expect(exporters.map((f) => [f.type, f.stability])).toEqual([['otlp', 'alpha']]);
    expect(notifiers.map((f) => [f.type, f.stability])).toEqual([['otlp-logs', 'alpha']]);
  });

  it('has a valid manifest that provides an exporter and a notifier, and no runtime dependency', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    expect(parseManifest(pkg.sextant)).toMatchObject({ ok: true, manifest: { provides: ['exporter', 'notifier'] } });
    expect(JSON.stringify(pkg)).not.toContain('@sextant/runtime');
  });

  it('lists every configuration problem at once', async () => {
    await expect(resolveConfig(otlpExporterFactory, { endpoint: '127.0.0.1:4318', keep: ['/(/'], backoff: { initial: '1m', max: '1s' } })).rejects.toThrow(
      /endpoint: must be an http\(s\) base URL.*keep\[0\]: is not a valid glob or \/regex\/.*backoff\.initial: must not be above backoff\.max/s,
    );
    await expect(resolveConfig(otlpLogsNotifierFactory, { endpoint: 'http://127.0.0.1:4317/v1/logs', protocol: 'grpc' })).rejects.toThrow('endpoint: must be "http(s)://host:port" without a path when protocol is grpc');
    await expect(resolveConfig(otlpExporterFactory, { endpoint: 'http://127.0.0.1:4318', compression: 'zstd' })).rejects.toThrow(/compression/);
  });

  it('README documents every config key of both components', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    for (const factory of [otlpExporterFactory, otlpLogsNotifierFactory]) {
      for (const k of Object.keys((factory.configJsonSchema as { properties: Record<string, unknown> }).properties)) {
        expect(readme.includes(`| \`${k}\``), k).toBe(true);
      }
    }
  });
});
