import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { isSextantPlugin, parseManifest, type CollectorFactory } from '@sextant/plugin-api';
import { resolveConfig, startCollector } from '@sextant/testkit';
import plugin from '../src/plugin.js';
import { NGINX_METRICS, nginxCollectorFactory, renderMetricsTable, DEFAULT_LOG_FORMAT } from '../src/index.js';

const pkgUrl = new URL('../package.json', import.meta.url);
const readmeUrl = new URL('../README.md', import.meta.url);

describe('plugin package', () => {
  it('default-exports a plugin that registers the beta "nginx" collector factory', async () => {
    expect(isSextantPlugin(plugin)).toBe(true);
    expect(plugin.pluginId).toBe('nginx');
    const added: CollectorFactory<unknown>[] = [];
    await plugin.register({ collectors: { addFactory: (f: CollectorFactory<unknown>) => added.push(f) } });
    expect(added.map((f) => [f.type, f.stability])).toEqual([['nginx', 'beta']]);
    // a JSON Schema for docs and out-of-process Describe
    expect(added[0].configJsonSchema).toMatchObject({ type: 'object', properties: { url: { type: 'string' }, accessLog: { type: 'object' } } });
  });

  it('has a valid manifest whose discovery rule targets the nginx factory on the usual images and ports', async () => {
    const pkg = JSON.parse(await readFile(pkgUrl, 'utf8'));
    const result = parseManifest(pkg.sextant);
    expect(result.ok).toBe(true);
    const rule = result.ok ? result.manifest.discovery![0] : undefined;
    expect(rule).toMatchObject({ factory: 'nginx', ports: [80, 8080], config: { url: 'http://{{host}}:{{port}}/nginx_status' } });
    expect(rule?.images).toEqual(expect.arrayContaining(['nginx', '**/nginx', 'bitnami/nginx', 'nginxinc/*']));
    expect(pkg.peerDependencies['@sextant/plugin-api']).toBeDefined();
    expect(JSON.stringify(pkg)).not.toContain('@sextant/runtime');
  });

  it('README metrics table matches src/metrics.ts (regenerate with renderMetricsTable())', async () => {
    const readme = await readFile(readmeUrl, 'utf8');
    const table = renderMetricsTable();
    expect(readme, `README.md must contain exactly this table:\n\n${table}\n`).toContain(table);
    for (const name of Object.keys(NGINX_METRICS)) expect(table).toContain(`\`${name}\``);
  });

  it('collects only metrics that the metadata table declares', async () => {
    // every series the collector can declare goes through nginxSeries(); this guards against literals
    const src = await Promise.all(
      ['stub-status-source.ts', 'access-log-source.ts'].map((f) => readFile(new URL(`../src/${f}`, import.meta.url), 'utf8')),
    );
    const used = new Set(src.join('\n').match(/'nginx\.[a-z_.0-9]+'/g)!.map((s) => s.slice(1, -1)));
    for (const m of used) if (m !== 'nginx.top_urls' && !m.startsWith('nginx.top_urls.') && m !== 'nginx.http.route') expect(Object.keys(NGINX_METRICS)).toContain(m);
  });
});

describe('configuration', () => {
  const resolve = (config: unknown) => resolveConfig(nginxCollectorFactory, config);

  it('applies defaults', async () => {
    const c = await resolve({ url: 'http://127.0.0.1:8080/nginx_status', accessLog: { path: '/var/log/nginx/access.log' } });
    expect(c).toMatchObject({ timeout: 5000, serviceName: 'nginx', scheme: 'http', paths: ['/nginx_status', '/status', '/stub_status', '/basic_status'] });
    expect(c.accessLog).toEqual({
      path: '/var/log/nginx/access.log',
      format: DEFAULT_LOG_FORMAT,
      topN: 10,
      fromStart: false,
      errorStatus: 500,
      maxRoutes: 1000,
      maxRouteSeries: 100,
      maxLineBytes: 16384,
      maxReadBytes: 256 << 20,
    });
  });

  it('reads durations like "2s" and "750ms"', async () => {
    expect((await resolve({ host: 'web', timeout: '2s' })).timeout).toBe(2000);
    expect((await resolve({ host: 'web', timeout: '750ms' })).timeout).toBe(750);
    await expect(resolve({ host: 'web', timeout: 'soon' })).rejects.toThrow(/nginx.timeout/);
  });

  it('explains a URL without a scheme and suggests the fix', async () => {
    await expect(resolve({ url: 'localhost:80' })).rejects.toThrow(/nginx.url: must be an http\(s\) URL \(got "localhost:80"\); did you mean "http:\/\/localhost:80"\?/);
  });

  it('refuses a config with nothing to collect', async () => {
    await expect(resolve({})).rejects.toThrow(/nothing to collect/);
  });

  it('refuses a log format it cannot parse, naming the field and the fix', async () => {
    await expect(resolve({ accessLog: { path: '/x', format: '$remote_addr$status' } })).rejects.toThrow(/nginx.accessLog.format: .*nothing between them.*log_format/);
  });

  it('lists every problem at once', async () => {
    const err = await resolve({ url: 'ftp://x', port: 70000, accessLog: { path: '', topN: 0 } }).catch((e: Error) => e.message);
    expect(err).toMatch(/nginx.url/);
    expect(err).toMatch(/nginx.port/);
    expect(err).toMatch(/nginx.accessLog.path/);
    expect(err).toMatch(/nginx.accessLog.topN/);
  });

  it('merges the configured resource map last, so container attributes can be added', async () => {
    const h = await startCollector(nginxCollectorFactory, {
      config: { url: 'http://127.0.0.1:1/nginx_status', timeout: 500, resource: { 'container.id': 'abc', 'service.name': 'edge' } },
      hostResource: { 'host.name': 'h1' },
    });
    await h.collect();
    expect(h.sink.of('nginx.up')[0].resource).toEqual({ 'host.name': 'h1', 'service.name': 'edge', 'server.address': '127.0.0.1', 'server.port': 1, 'container.id': 'abc' });
    await h.shutdown();
    await h.shutdown(); // idempotent
  });
});
