import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ErrorCode,
  collectorsExtensionPoint,
  createCollectorFactory,
  createExtensionPoint,
  createPlugin,
  formatError,
  isSextantError,
  isSextantPlugin,
  mergeDefaults,
  parseManifest,
  validateConfig,
} from '../src/index.js';

describe('refs and plugins', () => {
  it('gives two refs with the same id and version the same global token', () => {
    const again = createExtensionPoint({ id: 'collectors' });
    expect(again.token).toBe(collectorsExtensionPoint.token);
    expect(createExtensionPoint({ id: 'collectors', version: 2 }).token).not.toBe(collectorsExtensionPoint.token);
  });
  it('rejects ids that are not kebab-case, with a suggestion', () => {
    try {
      createPlugin({ pluginId: 'MyPlugin', deps: {}, register() {} });
      expect.unreachable();
    } catch (e) {
      expect(isSextantError(e)).toBe(true);
      expect(formatError(e)).toBe('SEXTANT_ERR_INVALID_ID: plugin id "MyPlugin" is not kebab-case; use "my-plugin"');
    }
  });
  it('rejects deps that are not refs', () => {
    expect(() => createPlugin({ pluginId: 'x', deps: { collectors: {} as never }, register() {} })).toThrow(/deps.collectors is not an extension point/);
  });
  it('brands plugins so a second copy of the contract recognises them', () => {
    const p = createPlugin({ pluginId: 'x', deps: { collectors: collectorsExtensionPoint }, register() {} });
    expect(isSextantPlugin(JSON.parse(JSON.stringify({ ...p })))).toBe(true);
    expect(isSextantPlugin({ pluginId: 'x' })).toBe(false);
  });
  it('checks factory type names and stability', () => {
    const base = { description: 'd', configSchema: z.object({}), defaults: {}, create: () => ({ shutdown() {} }) };
    expect(() => createCollectorFactory({ ...base, type: 'Bad_Type', stability: 'beta' })).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_ID }));
    expect(() => createCollectorFactory({ ...base, type: 'ok', stability: 'gold' as never })).toThrow(/stability "gold"/);
  });
});

describe('config validation', () => {
  const schema = z.object({ url: z.string().url(), intervalMs: z.number().int().positive(), tags: z.array(z.string()) });
  it('lists every issue with its full path', async () => {
    const r = await validateConfig(schema, { url: 'not a url', intervalMs: -1, tags: ['a', 3] }, 'collectors.nginx');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.path).sort()).toEqual(['collectors.nginx.intervalMs', 'collectors.nginx.tags[1]', 'collectors.nginx.url']);
  });
  it('merges defaults under user values without touching either', () => {
    const defaults = { a: 1, nested: { b: 2, c: 3 }, list: [1, 2] };
    const merged = mergeDefaults(defaults, { nested: { c: 4 }, list: [9] });
    expect(merged).toEqual({ a: 1, nested: { b: 2, c: 4 }, list: [9] });
    expect(defaults.nested.c).toBe(3);
  });
});

describe('manifest', () => {
  it('accepts a complete manifest and normalises a single discovery rule to a list', () => {
    const r = parseManifest({ plugin: './dist/plugin.js', protocol: [1], provides: ['collector'], discovery: { factory: 'nginx', images: ['nginx'] } });
    expect(r.ok && r.manifest.discovery?.length).toBe(1);
  });
  it('lists every problem of a broken manifest', () => {
    const r = parseManifest({ protocol: ['one'], provides: ['collector', 'transmogrifier'], stability: 'gold', discovery: [{ ports: [70000] }] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.path)).toEqual([
      'sextant.plugin',
      'sextant.protocol',
      'sextant.provides[1]',
      'sextant.stability',
      'sextant.discovery[0].factory',
      'sextant.discovery[0].ports',
    ]);
  });
});
