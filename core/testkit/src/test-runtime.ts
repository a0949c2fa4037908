/**
 * `startTestRuntime()`: a real Sextant runtime (DI, discovery of the given plugins, config
 * validation, pipeline, store, optional HTTP API) for a plugin's tests, with a fake clock by default
 * so collection rounds run when the test says so.
 */
import 'reflect-metadata';
import {
  isSextantPlugin,
  type Attributes,
  type Clock,
  type SextantPlugin,
} from '@sextant/plugin-api';
import { ApiServer, Runtime, validateRuntimeConfig, type BuiltinPlugin, type RuntimeConfigInput, type StartupProblem } from '@sextant/runtime';

export interface TestRuntimeOptions {
  /** Plugins to load (objects made with createPlugin, or {plugin, packageName, version}). */
  readonly plugins: readonly (SextantPlugin | BuiltinPlugin)[];
  /** Runtime configuration (sextant.yaml as an object). `plugins.discover` defaults to false. */
  readonly config?: RuntimeConfigInput;
  readonly clock?: Clock;
  /** Serve the HTTP API on a free loopback port. */
  readonly api?: boolean;
  readonly hostResource?: Attributes;
}

export interface TestRuntime {
  readonly runtime: Runtime;
  readonly problems: readonly StartupProblem[];
  /** Base URL of the API when `api: true`. */
  readonly url?: string;
  /** Runs one collection round of every collector and waits for it. */
  collect(): Promise<void>;
  /** Stored values of a metric (optionally filtered by attributes), oldest first. */
  values(metric: string, match?: Attributes): number[];
  stop(): Promise<void>;
}

export async function startTestRuntime(options: TestRuntimeOptions): Promise<TestRuntime> {
  const input = { ...options.config, plugins: { discover: false, ...options.config?.plugins }, server: { port: 0, ...options.config?.server } } as RuntimeConfigInput;
  const loaded = validateRuntimeConfig(input);
  if (!loaded.config) throw new Error(`invalid test runtime config: ${loaded.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  const builtins: BuiltinPlugin[] = options.plugins.map((p) => (isSextantPlugin(p) ? { plugin: p, packageName: `test:${p.pluginId}`, version: '0.0.0-test' } : p));
  const runtime = await Runtime.load({
    config: loaded.config,
    builtins,
    log: { level: process.env.SEXTANT_TEST_LOG === '1' ? 'debug' : 'silent' },
    collectImmediately: false,
    hostResource: options.hostResource ?? { 'host.name': 'test-host' },
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const problems = await runtime.start();
  let api: ApiServer | undefined;
  let url: string | undefined;
  if (options.api) {
    api = new ApiServer(runtime, { host: '127.0.0.1', port: 0, token: loaded.config.server.token, logger: runtime.logger });
    url = (await api.listen()).url;
  }
  return {
    runtime,
    problems,
    ...(url ? { url } : {}),
    collect: () => runtime.collectNow(),
    values(metric, match) {
      return runtime.registry.find({ metric, ...(match ? { match } : {}) }).flatMap((s) => runtime.store.read(s.id).map((p) => p.value));
    },
    async stop() {
      await api?.close();
      await runtime.stop();
    },
  };
}
