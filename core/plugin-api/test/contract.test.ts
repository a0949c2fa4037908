import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CounterRate,
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

describe('CounterRate', () => {
  it('reports per-second rates and never a negative rate on reset', () => {
    const r = new CounterRate();
    expect(r.update(100, 0)).toBeUndefined();
    expect(r.update(200, 10_000)).toBe(10);
    expect(r.update(50, 20_000)).toBeUndefined(); // server restarted
    expect(r.resets).toBe(1);
    expect(r.update(150, 30_000)).toBe(10);
  });
  it('reads a decrease near the top of a 32-bit counter as a wrap', () => {
    const r = new CounterRate({ wrapAt: 2 ** 32 });
    r.update(2 ** 32 - 1000, 0);
    expect(r.update(1000, 1000)).toBe(2000);
  });
  it('ignores NaN, negative values and time going backwards', () => {
    const r = new CounterRate();
    r.update(10, 1000);
    expect(r.update(Number.NaN, 2000)).toBeUndefined();
    expect(r.update(-5, 2000)).toBeUndefined();
    expect(r.update(20, 1000)).toBeUndefined();
    expect(r.update(30, 3000)).toBe(10);
  });
});

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

describe('parseDuration', async () => {
  const { parseDuration } = await import('../src/index.js');
  it('reads numbers as milliseconds and text with a unit', () => {
    expect([250, '500ms', '10s', ' 5m ', '1.5h', '2d', '3 s'].map(parseDuration)).toEqual([250, 500, 10_000, 300_000, 5_400_000, 172_800_000, 3000]);
  });
  it('refuses what is not a duration', () => {
    expect(['soon', '5', '-1s', '1w', '', 'NaNs'].map(parseDuration)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect([Number.NaN, Number.POSITIVE_INFINITY, -5, null, {}].map(parseDuration)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});
