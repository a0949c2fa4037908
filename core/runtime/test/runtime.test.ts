import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ErrorCode,
  collectorsExtensionPoint,
  createCollectorFactory,
  createDetectorFactory,
  createPlugin,
  detectorsExtensionPoint,
  type CollectorFactory,
  type SampleBatch,
} from '@sextant/plugin-api';
import { Runtime, validateRuntimeConfig, type RuntimeConfigInput } from '../src/index.js';
import { Pipeline } from '../src/pipeline/pipeline.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');

function config(input: RuntimeConfigInput) {
  const loaded = validateRuntimeConfig({ plugins: { discover: false }, server: { port: 0 }, ...input });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.issues));
  return loaded.config;
}

const quiet = { level: 'silent' as const };

/** A collector that writes the values it is configured with, including NaN/Infinity. */
const fixedFactory = createCollectorFactory({
  type: 'fixed',
  stability: 'stable',
  description: 'writes fixed values',
  configSchema: z.object({ values: z.array(z.union([z.number(), z.literal('NaN'), z.literal('Infinity')])) }),
  defaults: { values: [1, 2, 3] },
  create(ctx) {
    let round = 0;
    return {
      collect() {
        const id = ctx.sink.series({ metric: 'test.value', unit: '1', type: 'gauge', resource: ctx.hostResource, attributes: {} });
        const t = 1_000_000 + round++ * 1000;
        ctx.config.values.forEach((v, i) => ctx.sink.sample(id, v === 'NaN' ? Number.NaN : v === 'Infinity' ? Number.POSITIVE_INFINITY : v, t + i));
      },
      shutdown() {},
    };
  },
});

function plugin(pluginId: string, factory: CollectorFactory<any> = fixedFactory) {
  return { packageName: `@test/${pluginId}`, version: '1.0.0', plugin: createPlugin({ pluginId, deps: { collectors: collectorsExtensionPoint }, register: ({ collectors }) => collectors.addFactory(factory) }) };
}

describe('Runtime', () => {
  it('wires tsyringe constructor injection with real decorator metadata', () => {
    const types = Reflect.getMetadata('design:paramtypes', Pipeline) as unknown[];
    expect(types).toHaveLength(7);
  });

  it('collects through the pipeline into the store and counts NaN/Infinity as dropped, never stored', async () => {
    const rt = await Runtime.load({ config: config({ collectors: { fixed: { values: [1, 'NaN', 3, 'Infinity'] } } }), builtins: [plugin('fixed')], log: quiet, collectImmediately: false });
    await rt.start();
    await rt.collectNow();
    const [series] = rt.registry.find({ metric: 'test.value' });
    expect(rt.store.read(series.id).map((p) => p.value)).toEqual([1, 3]);
    expect(rt.telemetry.sum('sextant_samples_dropped_total', { reason: 'non_finite' })).toBe(2);
    expect(rt.telemetry.sum('sextant_samples_received_total')).toBe(4);
    expect(rt.telemetry.sum('sextant_samples_accepted_total')).toBe(2);
    expect(rt.statuses()[0]).toMatchObject({ id: 'fixed', state: 'ok', series: 1 });
    await rt.stop();
    await rt.stop(); // idempotent
    expect(rt.statuses()[0].state).toBe('stopped');
  });

  it('keeps the others running when one start() throws and one never resolves, with coded errors', async () => {
    const throwing = createCollectorFactory({
      type: 'boom',
      stability: 'alpha',
      description: 'throws at start',
      configSchema: z.object({}),
      defaults: {},
      create: () => ({ start: () => Promise.reject(new Error('port 1 is closed')), shutdown() {} }),
    });
    const hanging = createCollectorFactory({
      type: 'hang',
      stability: 'alpha',
      description: 'never starts',
      configSchema: z.object({}),
      defaults: {},
      create: () => ({ start: () => new Promise<void>(() => {}), shutdown() {} }),
    });
    const rt = await Runtime.load({
      config: config({ collectors: { fixed: {}, boom: {}, hang: { startTimeout: '200ms' } } }),
      builtins: [plugin('fixed'), plugin('boom', throwing), plugin('hang', hanging)],
      log: quiet,
      collectImmediately: false,
    });
    const problems = await rt.start();
    const byId = Object.fromEntries(rt.statuses().map((s) => [s.id, s]));
    expect(byId.boom).toMatchObject({ state: 'error', code: ErrorCode.START_FAILED });
    expect(byId.boom.message).toContain('port 1 is closed');
    expect(byId.hang).toMatchObject({ state: 'error', code: ErrorCode.START_TIMEOUT });
    expect(byId.fixed.state).toBe('ok');
    expect(problems.map((p) => p.code).sort()).toEqual([ErrorCode.START_FAILED, ErrorCode.START_TIMEOUT]);
    await rt.collectNow();
    expect(rt.registry.find({ metric: 'test.value' })).toHaveLength(1);
    await rt.stop();
  });

  it('refuses a second plugin registering the same type, and the first keeps working', async () => {
    const rt = await Runtime.load({ config: config({ collectors: { fixed: {} } }), builtins: [plugin('first'), plugin('second')], log: quiet });
    expect(rt.problems).toHaveLength(1);
    expect(rt.problems[0]).toMatchObject({ code: ErrorCode.DUPLICATE_FACTORY, plugin: 'second' });
    expect(rt.problems[0].message).toContain('already registered by first');
    expect(rt.factory('collector', 'fixed')?.pluginId).toBe('first');
    await rt.stop();
  });

  it('lists every configuration problem at once and refuses to start', async () => {
    const rt = await Runtime.load({
      config: config({ collectors: { fixd: {}, fixed: { values: 'x' }, 'fixed/b': { interval: 'soon' } } }),
      builtins: [plugin('fixed')],
      log: quiet,
    });
    const issues = await rt.validate();
    expect(issues.map((i) => i.path)).toEqual(['collectors.fixed/b.interval', 'collectors.fixd', 'collectors.fixed.values']);
    expect(issues[1].hint).toBe('did you mean "fixed"?');
    await expect(rt.start()).rejects.toMatchObject({ code: ErrorCode.CONFIG_INVALID });
    expect(rt.statuses()).toEqual([]);
    await rt.stop();
  });

  it('isolates a detector that throws: marked degraded, the store still gets the data', async () => {
    let seen = 0;
    const bad = createDetectorFactory({
      type: 'bad',
      stability: 'alpha',
      description: 'throws',
      configSchema: z.object({}),
      defaults: {},
      create: () => ({ process() { throw new Error('model exploded'); }, shutdown() {} }),
    });
    const good = createDetectorFactory({
      type: 'good',
      stability: 'alpha',
      description: 'counts',
      configSchema: z.object({}),
      defaults: {},
      create: () => ({ process(b: SampleBatch) { seen += b.length; }, shutdown() {} }),
    });
    const detectors = { packageName: '@test/det', version: '1.0.0', plugin: createPlugin({ pluginId: 'det', deps: { d: detectorsExtensionPoint }, register: ({ d }) => { d.addFactory(bad); d.addFactory(good); } }) };
    const rt = await Runtime.load({ config: config({ collectors: { fixed: {} }, detectors: { bad: {}, good: {} } }), builtins: [plugin('fixed'), detectors], log: quiet, collectImmediately: false });
    await rt.start();
    await rt.collectNow();
    expect(seen).toBe(3);
    const bad1 = rt.statuses().find((s) => s.id === 'bad')!;
    expect(bad1.state).toBe('degraded');
    expect(bad1.message).toContain('model exploded');
    expect(rt.store.read(rt.registry.find({ metric: 'test.value' })[0].id)).toHaveLength(3);
    await rt.stop();
  });

  it('guards against label explosions with a per-instance series limit', async () => {
    const exploding = createCollectorFactory({
      type: 'explode',
      stability: 'alpha',
      description: 'one series per request id',
      configSchema: z.object({}),
      defaults: {},
      create: (ctx) => ({
        collect() {
          for (let i = 0; i < 50; i++) ctx.sink.sample(ctx.sink.series({ metric: 'req', unit: '1', type: 'gauge', resource: {}, attributes: { id: `r${i}` } }), i);
        },
        shutdown() {},
      }),
    });
    const rt = await Runtime.load({ config: config({ store: { maxSeriesPerInstance: 10 }, collectors: { explode: {} } }), builtins: [plugin('explode', exploding)], log: quiet, collectImmediately: false });
    await rt.start();
    await rt.collectNow();
    expect(rt.registry.size).toBe(10);
    expect(rt.telemetry.sum('sextant_samples_dropped_total', { reason: 'series_limit' })).toBe(40);
    expect(rt.statuses()[0]).toMatchObject({ state: 'degraded', code: ErrorCode.LIMIT_EXCEEDED });
    await rt.stop();
  });
});

describe('third-party plugin packages', () => {
  let dir: string;
  beforeAll(() => {
    execFileSync('npx', ['tsc', '-b', join(repo, 'plugins/example-random/tsconfig.lib.json')], { cwd: repo, stdio: 'inherit' });
    dir = mkdtempSync(join(tmpdir(), 'sextant-discovery-'));
    const nm = join(dir, 'node_modules');
    // The example package, as a stranger would install it: package.json + dist only.
    const pkg = join(nm, '@acme/sextant-plugin-random');
    mkdirSync(pkg, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(repo, 'plugins/example-random/package.json'), 'utf8'));
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ ...manifest, name: '@acme/sextant-plugin-random' }));
    cpSync(join(repo, 'plugins/example-random/dist'), join(pkg, 'dist'), { recursive: true });
    // Its dependencies resolve from the same node_modules.
    mkdirSync(join(nm, '@sextant'), { recursive: true });
    symlinkSync(join(repo, 'core/plugin-api'), join(nm, '@sextant/plugin-api'));
    symlinkSync(join(repo, 'node_modules/zod'), join(nm, 'zod'));
    symlinkSync(join(repo, 'node_modules/@standard-schema'), join(nm, '@standard-schema'));
    // A package with a broken manifest, and one whose module does not export a plugin.
    mkdirSync(join(nm, 'broken-manifest'));
    writeFileSync(join(nm, 'broken-manifest/package.json'), JSON.stringify({ name: 'broken-manifest', version: '1.0.0', sextant: { provides: ['exporter'] } }));
    mkdirSync(join(nm, 'not-a-plugin'));
    writeFileSync(join(nm, 'not-a-plugin/package.json'), JSON.stringify({ name: 'not-a-plugin', version: '2.0.0', type: 'module', sextant: { plugin: './index.js', provides: ['collector'] } }));
    writeFileSync(join(nm, 'not-a-plugin/index.js'), 'export default { hello: "world" };\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('discovers an installed package by its manifest, loads it through DI and runs it', async () => {
    const cfg = validateRuntimeConfig({ server: { port: 0 }, collectors: { random: { streams: 2 } } }).config!;
    const rt = await Runtime.load({ config: cfg, searchFrom: [dir], log: quiet, collectImmediately: false });
    const infos = Object.fromEntries(rt.plugins().map((p) => [p.packageName, p]));
    expect(infos['@acme/sextant-plugin-random'].error).toBeUndefined();
    expect(infos['@acme/sextant-plugin-random']).toMatchObject({ id: 'example-random', state: 'loaded', source: 'node_modules', kinds: ['collector'] });
    expect(infos['@acme/sextant-plugin-random'].factories[0]).toMatchObject({ type: 'random', stability: 'development' });
    expect(infos['broken-manifest']).toMatchObject({ state: 'failed' });
    expect(infos['broken-manifest'].error).toMatch(/SEXTANT_ERR_MANIFEST_INVALID.*plugin/);
    expect(infos['not-a-plugin'].error).toMatch(/SEXTANT_ERR_PLUGIN_INVALID.*does not export a plugin/);
    await rt.start();
    await rt.collectNow();
    expect(rt.registry.find({ metric: 'example.random.value' })).toHaveLength(2);
    await rt.stop();
  });
});
