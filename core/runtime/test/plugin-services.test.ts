/**
 * Services between plugins (issue 14: 2): a plugin provides a service through a ref, another
 * depends on it; the runtime orders registration by these dependencies and reports a missing
 * provider or a cycle as a startup problem with a hint, while the other plugins load. Plugin-scoped
 * core services (logger, self-metrics, config, state) are made per plugin.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ErrorCode,
  collectorsExtensionPoint,
  coreServices,
  createCollectorFactory,
  createPlugin,
  createServiceRef,
  type SextantPlugin,
} from '@sextant/plugin-api';
import { Runtime, validateRuntimeConfig, type RuntimeConfigInput } from '../src/index.js';

function config(input: RuntimeConfigInput = {}) {
  const loaded = validateRuntimeConfig({ plugins: { discover: false }, server: { port: 0 }, ...input });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.issues));
  return loaded.config;
}

const builtin = (plugin: SextantPlugin) => ({ packageName: `@test/${plugin.pluginId}`, version: '1.0.0', plugin });

/** What a greeter plugin provides: names added by other plugins, read by its collector. */
interface Greetings {
  add(name: string): void;
  readonly names: readonly string[];
}
const greetingsService = createServiceRef<Greetings>({ id: 'test-greetings' });

/** Provides `test-greetings`; its `greeter` collector writes one series per name added by others. */
const greeterPlugin = createPlugin({
  pluginId: 'greeter',
  deps: { collectors: collectorsExtensionPoint },
  provides: { greetings: greetingsService },
  register({ collectors }) {
    const names: string[] = [];
    collectors.addFactory(
      createCollectorFactory({
        type: 'greeter',
        stability: 'alpha',
        description: 'one series per greeted name',
        configSchema: z.object({}),
        defaults: {},
        create(ctx) {
          return {
            collect() {
              for (const name of names) ctx.sink.sample(ctx.sink.series({ metric: 'greeted', unit: '1', type: 'gauge', resource: { 'service.name': name }, attributes: {} }), 1);
            },
            shutdown() {},
          };
        },
      }),
    );
    return { greetings: { add: (n: string) => void names.push(n), names } };
  },
});

const consumer = (pluginId: string, name: string) =>
  createPlugin({ pluginId, deps: { greetings: greetingsService }, register: ({ greetings }) => greetings.add(name) });

const quietLog = { level: 'silent' as const };

describe('services plugins provide to each other', () => {
  it('gives a consumer the service its provider returned, registering the provider first whatever the discovery order', async () => {
    // The consumers come first in discovery order: the runtime must still register the greeter before them.
    const rt = await Runtime.load({
      config: config({ collectors: { greeter: {} } }),
      builtins: [builtin(consumer('alice-plugin', 'alice')), builtin(greeterPlugin), builtin(consumer('bob-plugin', 'bob'))],
      log: quietLog,
      collectImmediately: false,
    });
    expect(rt.problems).toEqual([]);
    await rt.start();
    await rt.collectNow();
    const names = rt.registry.find({ metric: 'greeted' }).map((s) => s.resource['service.name']).sort();
    expect(names).toEqual(['alice', 'bob']);
    expect(rt.plugins().find((p) => p.id === 'greeter')).toMatchObject({ state: 'loaded', services: ['test-greetings'] });
    await rt.stop();
  });

  it('reports a service nobody provides as a startup problem with a hint, and loads the others', async () => {
    const plain = createPlugin({ pluginId: 'plain', deps: { collectors: collectorsExtensionPoint }, register() {} });
    const rt = await Runtime.load({ config: config(), builtins: [builtin(consumer('alice-plugin', 'alice')), builtin(plain)], log: quietLog });
    expect(rt.problems).toHaveLength(1);
    expect(rt.problems[0]).toMatchObject({ plugin: 'alice-plugin', code: ErrorCode.DEPENDENCY_UNKNOWN });
    expect(rt.problems[0].message).toContain('"test-greetings"');
    expect(rt.problems[0].hint).toMatch(/install and enable the plugin that provides "test-greetings"/);
    expect(Object.fromEntries(rt.plugins().map((p) => [p.id, p.state]))).toEqual({ 'alice-plugin': 'failed', plain: 'loaded' });
    await rt.stop();
  });

  it('fails a consumer whose provider failed, naming the provider', async () => {
    const broken = createPlugin({ pluginId: 'greeter', deps: {}, provides: { greetings: greetingsService }, register: () => { throw new Error('no greetings today'); } });
    const rt = await Runtime.load({ config: config(), builtins: [builtin(broken), builtin(consumer('alice-plugin', 'alice'))], log: quietLog });
    expect(rt.problems.map((p) => [p.plugin, p.code])).toEqual([
      ['greeter', ErrorCode.PLUGIN_REGISTER_FAILED],
      ['alice-plugin', ErrorCode.DEPENDENCY_UNKNOWN],
    ]);
    expect(rt.problems[1].message).toContain('@test/greeter, which failed');
    await rt.stop();
  });

  it('refuses a provider whose register() does not return the service it declares', async () => {
    const forgetful = createPlugin({ pluginId: 'greeter', deps: {}, provides: { greetings: greetingsService }, register: () => undefined as never });
    const rt = await Runtime.load({ config: config(), builtins: [builtin(forgetful)], log: quietLog });
    expect(rt.problems[0]).toMatchObject({ code: ErrorCode.PLUGIN_REGISTER_FAILED });
    expect(rt.problems[0].message).toContain('did not return provides.greetings');
    await rt.stop();
  });

  it('reports plugins that depend on each other in a circle, naming the circle, and loads the others', async () => {
    const pingService = createServiceRef<{ ping(): string }>({ id: 'test-ping' });
    const pongService = createServiceRef<{ pong(): string }>({ id: 'test-pong' });
    let registered = 0;
    const ping = createPlugin({ pluginId: 'ping', deps: { pong: pongService }, provides: { ping: pingService }, register: () => (registered++, { ping: { ping: () => 'ping' } }) });
    const pong = createPlugin({ pluginId: 'pong', deps: { ping: pingService }, provides: { pong: pongService }, register: () => (registered++, { pong: { pong: () => 'pong' } }) });
    const rt = await Runtime.load({ config: config(), builtins: [builtin(ping), builtin(pong), builtin(greeterPlugin)], log: quietLog });
    expect(registered).toBe(0);
    expect(rt.problems.map((p) => [p.plugin, p.code])).toEqual([
      ['ping', ErrorCode.DEPENDENCY_CYCLE],
      ['pong', ErrorCode.DEPENDENCY_CYCLE],
    ]);
    expect(rt.problems[0].message).toMatch(/ping -> pong -> ping|pong -> ping -> pong/);
    expect(rt.problems[0].hint).toMatch(/circle|cycle|depend/);
    expect(rt.plugins().find((p) => p.id === 'greeter')?.state).toBe('loaded');
    await rt.stop();
  });

  it('refuses a second provider of the same service with a hint', async () => {
    const rt = await Runtime.load({ config: config(), builtins: [builtin(greeterPlugin), builtin(createPlugin({ pluginId: 'other-greeter', deps: {}, provides: { g: greetingsService }, register: () => ({ g: { add() {}, names: [] } }) }))], log: quietLog });
    expect(rt.problems).toHaveLength(1);
    expect(rt.problems[0]).toMatchObject({ plugin: 'other-greeter', code: ErrorCode.PLUGIN_INVALID });
    expect(rt.problems[0].hint).toContain('plugins.disabled');
    await rt.stop();
  });
});

describe('plugin-scoped core services', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('gives every plugin its own logger, self-metrics, config and data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sextant-scope-'));
    dirs.push(dataDir);
    const lines: string[] = [];
    const seen: Record<string, { logger: unknown; metrics: unknown; config: unknown; dataDir: string | undefined }> = {};
    const scoped = (pluginId: string) =>
      createPlugin({
        pluginId,
        deps: { logger: coreServices.logger, metrics: coreServices.metrics, config: coreServices.config, state: coreServices.state, clock: coreServices.clock },
        register({ logger, metrics, config, state, clock }) {
          logger.info(`hello from ${pluginId}`);
          metrics.counter('registrations_total', 'times register() ran').add(1);
          expect(typeof clock.now()).toBe('number');
          seen[pluginId] = { logger, metrics, config, dataDir: state.dataDir };
        },
      });
    const rt = await Runtime.load({
      config: config({ dataDir, plugins: { discover: false, config: { first: { region: 'eu' } } } }),
      builtins: [builtin(scoped('first')), builtin(scoped('second'))],
      log: { level: 'info', write: (l) => lines.push(l) },
    });
    expect(rt.problems).toEqual([]);
    expect(seen.first.logger).not.toBe(seen.second.logger);
    expect(seen.first.metrics).not.toBe(seen.second.metrics);
    expect(lines.find((l) => l.includes('hello from first'))).toContain('[first]');
    expect(lines.find((l) => l.includes('hello from second'))).toContain('[second]');
    expect(rt.telemetry.value('sextant_plugin_registrations_total', { plugin: 'first' })).toBe(1);
    expect(rt.telemetry.value('sextant_plugin_registrations_total', { plugin: 'second' })).toBe(1);
    expect(seen.first.config).toEqual({ region: 'eu' });
    expect(seen.second.config).toEqual({});
    expect(seen.first.dataDir).toBe(join(dataDir, 'plugins', 'first'));
    expect(seen.second.dataDir).toBe(join(dataDir, 'plugins', 'second'));
    expect(existsSync(seen.first.dataDir!)).toBe(true);
    await rt.stop();
  });
});
