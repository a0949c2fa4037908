/**
 * Resolution and compatibility against a real HTTP registry (a node:http server answering
 * packument requests the way npm registries do), so RegistrySource is tested with the requests it
 * really makes.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '@sextant/plugin-api';
import { parseDistributionManifest, pluginImportSpecifier, RegistrySource, resolveDistribution, type PackageVersionInfo } from '../src/index.js';

type Version = Omit<PackageVersionInfo, 'name'>;
const plugin = (version: string, api: string, extra: Partial<Version> = {}): Version => ({
  version,
  peerDependencies: { '@sextant/plugin-api': api },
  exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' }, './plugin': { import: './dist/plugin.js' } },
  sextant: { plugin: './dist/plugin.js', protocol: [1], provides: ['collector'], stability: 'beta' },
  ...extra,
});

const PACKAGES: Record<string, Version[]> = {
  '@sextant/runtime': [
    { version: '0.1.0', dependencies: { '@sextant/plugin-api': '^0.1.0' } },
    { version: '0.1.3', dependencies: { '@sextant/plugin-api': '^0.1.0' } },
    { version: '0.3.0', dependencies: { '@sextant/plugin-api': '^0.3.0' } },
  ],
  '@sextant/cli': [
    { version: '0.1.0', dependencies: { '@sextant/runtime': '^0.1.0' } },
    { version: '0.1.4', dependencies: { '@sextant/runtime': '^0.1.0' } },
    { version: '0.3.0', dependencies: { '@sextant/runtime': '^0.3.0' } },
  ],
  '@sextant/plugin-api': [{ version: '0.1.0' }, { version: '0.1.2' }, { version: '0.1.5' }, { version: '0.3.0' }],
  '@sextant/plugin-redis': [plugin('0.1.0', '^0.1.0'), plugin('0.1.2', '^0.1.0'), plugin('0.2.0', '^0.3.0')],
  '@sextant/plugin-nginx': [plugin('0.1.1', '^0.1.0')],
  '@acme/plugin-future': [plugin('0.1.0', '^0.1.0'), plugin('0.3.0', '^0.3.0')],
  '@acme/plugin-only-future': [plugin('1.0.0', '^0.3.0')],
  '@acme/plugin-v2-protocol': [plugin('1.0.0', '^0.1.0', { sextant: { plugin: './dist/plugin.js', protocol: [2], provides: ['collector'] } })],
  '@acme/not-a-plugin': [{ version: '1.0.0' }],
  '@acme/plugin-early': [plugin('1.0.0', '>=0.1.0 <0.1.3')],
  '@acme/plugin-late': [plugin('1.0.0', '>=0.1.3 <0.2.0')],
};

let server: Server;
let url: string;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url!);
    const name = decodeURIComponent(req.url!.slice(1));
    if (name === '@acme/garbage') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"versions": ');
      return;
    }
    const versions = PACKAGES[name];
    if (!versions) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const body = { name, 'dist-tags': { latest: versions.at(-1)!.version }, versions: Object.fromEntries(versions.map((v) => [v.version, { name, ...v }])) };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const manifest = (plugins: unknown[], extra: Record<string, unknown> = {}) => parseDistributionManifest({ name: 'acme-sextant', version: '1.0.0', runtime: '^0.1.0', plugins, ...extra }, '/tmp', 'distribution.yaml');
const resolve = (plugins: unknown[], extra: Record<string, unknown> = {}) => resolveDistribution(manifest(plugins, extra), new RegistrySource(url));

describe('resolveDistribution', () => {
  it('picks exact versions: newest runtime in range, the CLI that accepts it, one shared contract, newest fitting plugins', async () => {
    const res = await resolve(['@sextant/plugin-redis@^0.1.0', { name: '@sextant/plugin-nginx' }]);
    expect(res.conflicts).toEqual([]);
    expect(res.runtime?.version).toBe('0.1.3');
    expect(res.cli?.version).toBe('0.1.4');
    expect(res.pluginApi?.version).toBe('0.1.5');
    expect(res.plugins.map((p) => `${p.name}@${p.version}`)).toEqual(['@sextant/plugin-redis@0.1.2', '@sextant/plugin-nginx@0.1.1']);
    expect(res.plugins[0].importSpecifier).toBe('@sextant/plugin-redis/plugin');
    expect(requests).toContain('/@sextant%2fplugin-redis');
  });

  it('prefers an older release in the range over a newer one that does not fit the runtime, and says so', async () => {
    const res = await resolve(['@sextant/plugin-redis@*']);
    expect(res.conflicts).toEqual([]);
    expect(res.plugins[0].version).toBe('0.1.2');
    expect(res.notes.join('\n')).toContain('picked 0.1.2, the newest release in * that fits @sextant/runtime 0.1.3 (0.2.0 does not)');
  });

  it('explains a plugin built for another contract and names the release that fits', async () => {
    const res = await resolve(['@acme/plugin-future@^0.3.0']);
    expect(res.conflicts.map((c) => c.sentence)).toEqual([
      '@acme/plugin-future@0.3.0 needs @sextant/plugin-api ^0.3.0, but @sextant/runtime 0.1.3 ships @sextant/plugin-api ^0.1.0; use @acme/plugin-future@^0.1.0 (its newest release that fits @sextant/runtime 0.1.3).',
    ]);
  });

  it('suggests another runtime when no release of the plugin fits this one', async () => {
    const res = await resolve(['@acme/plugin-only-future']);
    expect(res.conflicts[0].sentence).toBe(
      '@acme/plugin-only-future@1.0.0 needs @sextant/plugin-api ^0.3.0, but @sextant/runtime 0.1.3 ships @sextant/plugin-api ^0.1.0; set runtime: ^0.3.0 (the newest runtime that @acme/plugin-only-future@1.0.0 fits) or drop the plugin.',
    );
  });

  it('lists every problem at once: wrong protocol, not a plugin, unpublished, no version in range', async () => {
    const res = await resolve(['@acme/plugin-v2-protocol', '@acme/not-a-plugin', '@acme/nowhere', '@sextant/plugin-nginx@^2.0.0']);
    const sentences = res.conflicts.map((c) => c.sentence);
    expect(sentences).toHaveLength(4);
    expect(sentences[0]).toContain('@acme/plugin-v2-protocol@1.0.0 speaks plugin protocol v2, but @sextant/runtime 0.1.3 speaks v1');
    expect(sentences[1]).toBe('@acme/not-a-plugin@1.0.0 is not a Sextant plugin (its package.json has no "sextant" manifest); remove it from the plugins list (or ask its author to add a "sextant" manifest).');
    expect(sentences[2]).toBe(`@acme/nowhere is not published on ${url}; check the spelling or publish it there.`);
    expect(sentences[3]).toBe(`no release of @sextant/plugin-nginx matches ^2.0.0 (newest on ${url} is 0.1.1); use @sextant/plugin-nginx@^0.1.1.`);
  });

  it('names two plugins that fit the runtime but not each other (one copy of the contract)', async () => {
    const res = await resolve(['@acme/plugin-early', '@acme/plugin-late']);
    expect(res.conflicts.map((c) => c.sentence)).toEqual([
      '@acme/plugin-early@1.0.0 needs @sextant/plugin-api >=0.1.0 <0.1.3 and @acme/plugin-late@1.0.0 needs >=0.1.3 <0.2.0, and a distribution has exactly one copy of the contract; pick releases of @acme/plugin-early and @acme/plugin-late built against the same @sextant/plugin-api minor.',
    ]);
  });

  it('explains a runtime range nothing matches', async () => {
    const res = await resolve(['@sextant/plugin-nginx'], { runtime: '^9.0.0' });
    expect(res.conflicts[0].sentence).toBe(`no release of @sextant/runtime matches "runtime: ^9.0.0" (newest on ${url} is 0.3.0); set runtime: ^0.3.0.`);
  });

  it('reports an unreachable or broken registry as a coded error, not a crash', async () => {
    const closed = `http://127.0.0.1:1`;
    await expect(resolveDistribution(manifest(['x']), new RegistrySource(closed, { timeoutMs: 2000 }))).rejects.toMatchObject({ code: ErrorCode.CONNECTION_FAILED });
    await expect(resolve(['@acme/garbage'])).rejects.toMatchObject({ code: ErrorCode.PARSE_FAILED });
  });
});

describe('distribution manifest', () => {
  it('lists every problem of a bad manifest at once', () => {
    let error: unknown;
    try {
      parseDistributionManifest({ name: 'Bad Name', version: '1.0', runtime: 'not-a-range', roles: ['web'], plugins: [], extra: 1 }, '/tmp', 'd.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: ErrorCode.CONFIG_INVALID });
    const paths = ((error as { details: { issues: { path: string }[] } }).details.issues).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'version', 'runtime', 'roles[0]', 'plugins', '(root)']));
  });

  it('refuses a plugin listed twice', () => {
    expect(() => manifest(['@sextant/plugin-redis', { name: '@sextant/plugin-redis', version: '^0.1.0' }])).toThrow('lists @sextant/plugin-redis twice');
  });

  it('reads the shorthand name@range and fills defaults', () => {
    const m = manifest(['@sextant/plugin-redis@^0.1.0', 'plain-plugin']).manifest;
    expect(m.plugins).toEqual([{ name: '@sextant/plugin-redis', version: '^0.1.0' }, { name: 'plain-plugin' }]);
    expect(m.roles).toEqual(['run']);
    expect(m.cli).toBe('*');
  });
});

describe('pluginImportSpecifier', () => {
  const info = (exports: unknown): PackageVersionInfo => ({ name: '@x/p', version: '1.0.0', ...(exports === undefined ? {} : { exports }) });
  it('finds the export that reaches the plugin module, or falls back', () => {
    expect(pluginImportSpecifier(info({ '.': './dist/plugin.js' }), './dist/plugin.js')).toBe('@x/p');
    expect(pluginImportSpecifier(info({ './plugin': { types: './dist/plugin.d.ts', import: './dist/plugin.js' } }), './dist/plugin.js')).toBe('@x/p/plugin');
    expect(pluginImportSpecifier(info(undefined), './dist/plugin.js')).toBe('@x/p/dist/plugin.js');
    expect(pluginImportSpecifier(info({ '.': './dist/index.js' }), './dist/plugin.js')).toBeUndefined();
  });
});
