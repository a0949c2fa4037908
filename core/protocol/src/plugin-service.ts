/**
 * The child's implementation of sextant.plugin.v1.Plugin over a {@link LocalFactoryRegistry}: one
 * component per configured instance, each with its own output stream.
 */
import {
  ErrorCode,
  PLUGIN_CONTRACT_VERSION,
  SextantError,
  mergeDefaults,
  type Anomaly,
  type AnomalyInput,
  type Attributes,
  type Clock,
  type Collector,
  type Component,
  type Correlator,
  type Detector,
  type ExtensionKind,
  type IncidentUpdate,
  type Notification,
  type Notifier,
  type SeriesCatalog,
  type SeriesDescriptor,
  type SextantEvent,
  type SextantPlugin,
  type TopologyView,
} from '@sextant/plugin-api';
import { status as grpcStatus, type ServerDuplexStream, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { ChildCollectorSink, InstanceOutput } from './child-output.js';
import { kindFromWire, kindToWire } from './component-kind.js';
import type {
  ConfigIssue,
  CorrelateRequest,
  CorrelateResponse,
  DescribeResponse,
  DetectRequest,
  DetectResponse,
  FactoryDescription,
  PluginServer,
  SeriesDefinition,
} from './gen/sextant/plugin/v1/plugin.js';
import type { LocalFactoryRegistry } from './local-registry.js';
import { errorToWire } from './plugin-error.js';
import { readSampleColumns } from './sample-columns.js';
import { descriptorFromWire } from './series-wire.js';
import { fromWireJson, toWireJson } from './wire-json.js';

const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

/** Topology is not forwarded to out-of-process components in protocol 1. */
const emptyTopology: TopologyView = { entity: () => undefined, entities: () => [], edges: () => [], entityOf: () => undefined };

/** Series the host introduced on a Detect/Correlate stream, by host id. */
class StreamCatalog implements SeriesCatalog {
  private readonly byId: (SeriesDescriptor | undefined)[] = [];
  define(defs: readonly SeriesDefinition[]): void {
    for (const def of defs) {
      const d = descriptorFromWire(def.descriptor);
      if (d) this.byId[def.id] = d;
    }
  }
  describe(id: number): SeriesDescriptor | undefined {
    return this.byId[id];
  }
  get size(): number {
    return this.byId.length;
  }
}

interface ChildInstance {
  readonly id: string;
  readonly kind: ExtensionKind;
  readonly type: string;
  readonly component: Component;
  readonly output: InstanceOutput;
  readonly controller: AbortController;
  readonly sink?: ChildCollectorSink;
  readonly catalog?: StreamCatalog;
  /** Where emit()/publish() results go (Detect/Correlate stream), queued until it is open. */
  readonly replies: ReplyChannel;
}

class ReplyChannel {
  private pending: string[] = [];
  private scheduled = false;
  stream: ServerDuplexStream<DetectRequest, DetectResponse> | ServerDuplexStream<CorrelateRequest, CorrelateResponse> | undefined;
  constructor(private readonly field: 'anomaliesJson' | 'incidentUpdatesJson') {}
  push(json: string): void {
    this.pending.push(json);
    if (this.pending.length > 100_000) this.pending.shift();
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }
  flush(): void {
    this.scheduled = false;
    if (!this.stream || this.pending.length === 0) return;
    const items = this.pending;
    this.pending = [];
    (this.stream as unknown as { write(message: Record<string, string[]>): boolean }).write({ [this.field]: items });
  }
}

export interface PluginServiceOptions {
  readonly plugin: SextantPlugin;
  readonly registry: LocalFactoryRegistry;
  readonly protocol: number;
  readonly sdk: string;
  /** Called after Shutdown of everything has been answered. */
  readonly onShutdownAll: () => void;
}

export function createPluginService(options: PluginServiceOptions): PluginServer {
  const { registry } = options;
  const instances = new Map<string, ChildInstance>();
  const jsonSchemas = new Map<string, string>();

  async function describeFactories(): Promise<FactoryDescription[]> {
    const out: FactoryDescription[] = [];
    for (const [kind, factory] of registry.entries()) {
      const key = `${kind}/${factory.type}`;
      if (!jsonSchemas.has(key)) jsonSchemas.set(key, await configJsonSchemaOf(factory));
      out.push({
        kind: kindToWire(kind),
        type: factory.type,
        stability: factory.stability,
        description: factory.description,
        defaultsJson: toWireJson(factory.defaults ?? {}),
        configJsonSchema: jsonSchemas.get(key) ?? '',
      });
    }
    return out;
  }

  async function validate(kind: ExtensionKind | undefined, type: string, configJson: string): Promise<{ value?: unknown; issues: ConfigIssue[] }> {
    const factory = kind ? registry.factory(kind, type) : undefined;
    if (!factory || !kind) {
      throw new SextantError(ErrorCode.UNKNOWN_FACTORY, `this plugin has no ${kind ?? 'component'} "${type}"`, { hint: 'ask Describe for the factories it provides' });
    }
    const merged = mergeDefaults(factory.defaults ?? {}, fromWireJson(configJson) ?? {});
    let result = factory.configSchema['~standard'].validate(merged);
    if (result instanceof Promise) result = await result;
    if (result.issues) {
      return {
        issues: result.issues.map((issue) => ({
          path: (issue.path ?? []).map((seg) => String(typeof seg === 'object' && seg !== null ? seg.key : seg)),
          message: issue.message,
        })),
      };
    }
    return { value: result.value, issues: [] };
  }

  function find(id: string, kind?: ExtensionKind): ChildInstance {
    const instance = instances.get(id);
    if (!instance || (kind && instance.kind !== kind)) {
      throw new SextantError(ErrorCode.INTERNAL, `no ${kind ?? ''} instance "${id}" in this plugin process`.replace('  ', ' '), { hint: 'call Configure first' });
    }
    return instance;
  }

  async function shutdownInstance(instance: ChildInstance): Promise<void> {
    instances.delete(instance.id);
    instance.controller.abort();
    try {
      await instance.component.shutdown();
    } finally {
      instance.output.close();
      instance.replies.flush();
      instance.replies.stream?.end();
    }
  }

  return {
    describe: (_call, callback) => {
      void describeFactories().then(
        (factories) => {
          const response: DescribeResponse = {
            pluginId: options.plugin.pluginId,
            moduleId: options.plugin.moduleId ?? '',
            contractVersion: options.plugin.contractVersion ?? PLUGIN_CONTRACT_VERSION,
            protocolVersion: options.protocol,
            factories,
            sdk: options.sdk,
          };
          callback(null, response);
        },
        (error) => callback({ code: grpcStatus.INTERNAL, details: String(error) }),
      );
    },

    validateConfig: (call, callback) => {
      const { kind, type, configJson } = call.request;
      validate(kindFromWire(kind), type, configJson).then(
        ({ issues }) => callback(null, { issues, error: undefined }),
        (error) => callback(null, { issues: [], error: errorToWire(error, ErrorCode.CONFIG_INVALID, 'validation failed') }),
      );
    },

    configure: (call, callback) => {
      const req = call.request;
      const kind = kindFromWire(req.kind);
      void (async () => {
        if (instances.has(req.instanceId)) throw new SextantError(ErrorCode.INTERNAL, `instance "${req.instanceId}" is already configured`);
        const { value, issues } = await validate(kind, req.type, req.configJson);
        if (issues.length > 0) {
          throw new SextantError(ErrorCode.CONFIG_INVALID, issues.map((i) => `${[req.type, ...i.path].join('.')}: ${i.message}`).join('; '));
        }
        const output = new InstanceOutput();
        const controller = new AbortController();
        const base = {
          config: value,
          instanceId: req.displayId || req.instanceId,
          logger: output.logger,
          clock: systemClock,
          status: output.statusReporter,
          metrics: output.selfMetrics,
          signal: controller.signal,
          dataDir: req.dataDir || undefined,
        };
        let component: Component;
        let sink: ChildCollectorSink | undefined;
        let catalog: StreamCatalog | undefined;
        const replies = new ReplyChannel(kind === 'correlator' ? 'incidentUpdatesJson' : 'anomaliesJson');
        try {
          if (kind === 'collector') {
            sink = new ChildCollectorSink(output);
            const hostResource = (fromWireJson<Attributes>(req.hostResourceJson) ?? {}) as Attributes;
            component = await registry.collectors.get(req.type)!.create({ ...base, sink, hostResource, intervalMs: req.intervalMs || 10_000 });
          } else if (kind === 'detector') {
            catalog = new StreamCatalog();
            component = await registry.detectors.get(req.type)!.create({
              ...base,
              catalog,
              topology: emptyTopology,
              emit: (anomaly: AnomalyInput) => replies.push(toWireJson(anomaly)),
            });
          } else if (kind === 'correlator') {
            catalog = new StreamCatalog();
            component = await registry.correlators.get(req.type)!.create({
              ...base,
              catalog,
              topology: emptyTopology,
              publish: (update: IncidentUpdate) => replies.push(toWireJson(update)),
            });
          } else {
            component = await registry.notifiers.get(req.type)!.create(base);
          }
        } catch (error) {
          output.close();
          throw error;
        }
        instances.set(req.instanceId, { id: req.instanceId, kind: kind!, type: req.type, component, output, controller, sink, catalog, replies });
      })().then(
        () => callback(null, { error: undefined }),
        (error) => callback(null, { error: errorToWire(error, ErrorCode.CREATE_FAILED, `create() of ${req.type} failed`) }),
      );
    },

    start: (call, callback) => {
      void (async () => {
        const instance = find(call.request.instanceId);
        await instance.component.start?.();
      })().then(
        () => callback(null, { error: undefined }),
        (error) => callback(null, { error: errorToWire(error, ErrorCode.START_FAILED, 'start() failed') }),
      );
    },

    collect: (call) => {
      const instance = instances.get(call.request.instanceId);
      if (!instance) {
        call.emit('error', { code: grpcStatus.NOT_FOUND, details: `no instance "${call.request.instanceId}"` });
        return;
      }
      instance.output.attach(call);
    },

    tick: (call, callback) => {
      const { instanceId, round, timeoutMs } = call.request;
      let instance: ChildInstance;
      try {
        instance = find(instanceId, 'collector');
      } catch (error) {
        callback(null, { error: errorToWire(error, ErrorCode.INTERNAL, 'tick') });
        return;
      }
      const controller = new AbortController();
      call.on('cancelled', () => controller.abort(new SextantError(ErrorCode.COLLECT_FAILED, 'the host cancelled this collect round')));
      const timer = timeoutMs > 0 ? setTimeout(() => controller.abort(new SextantError(ErrorCode.COLLECT_FAILED, `collect round took longer than ${timeoutMs} ms`)), timeoutMs) : undefined;
      void (async () => (instance.component as Collector).collect?.(controller.signal))().then(
        () => {
          clearTimeout(timer);
          instance.sink!.completeRound(round, undefined);
          callback(null, { error: undefined });
        },
        (error) => {
          clearTimeout(timer);
          const wire = errorToWire(error, ErrorCode.COLLECT_FAILED, 'collect() failed');
          instance.sink!.completeRound(round, wire);
          callback(null, { error: undefined });
        },
      );
    },

    detect: (call) => {
      let instance: ChildInstance | undefined;
      call.on('data', (req: DetectRequest) => {
        try {
          if (!instance) {
            instance = find(req.instanceId, 'detector');
            instance.replies.stream = call;
            instance.replies.flush();
          }
          const detector = instance.component as Detector;
          if (req.series.length) instance.catalog!.define(req.series);
          if (req.batch && req.batch.count > 0) {
            const batch = readSampleColumns(req.batch);
            if (!batch) {
              instance.output.selfMetrics.counter('protocol_errors_total', 'malformed messages from the host').add(1);
            } else {
              detector.process(batch);
            }
          }
          if (req.eventJson) detector.onEvent?.(fromWireJson<SextantEvent>(req.eventJson));
        } catch (error) {
          if (!instance) {
            call.emit('error', { code: grpcStatus.NOT_FOUND, details: String(error instanceof Error ? error.message : error) });
            return;
          }
          instance.output.selfMetrics.counter('process_errors_total', 'detector process() calls that threw').add(1);
          instance.output.logger.warn(`process() threw: ${error instanceof Error ? error.message : String(error)}`);
        }
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },

    correlate: (call) => {
      let instance: ChildInstance | undefined;
      call.on('data', (req: CorrelateRequest) => {
        try {
          if (!instance) {
            instance = find(req.instanceId, 'correlator');
            instance.replies.stream = call;
            instance.replies.flush();
          }
          const correlator = instance.component as Correlator;
          if (req.series.length) instance.catalog!.define(req.series);
          if (req.anomalyJson) correlator.onAnomaly(fromWireJson<Anomaly>(req.anomalyJson));
          if (req.eventJson) correlator.onEvent?.(fromWireJson<SextantEvent>(req.eventJson));
          if (req.tickNowMs > 0) correlator.tick?.(req.tickNowMs);
        } catch (error) {
          if (!instance) {
            call.emit('error', { code: grpcStatus.NOT_FOUND, details: String(error instanceof Error ? error.message : error) });
            return;
          }
          instance.output.logger.warn(`correlator threw: ${error instanceof Error ? error.message : String(error)}`);
        }
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },

    notify: (call, callback) => {
      void (async () => {
        const instance = find(call.request.instanceId, 'notifier');
        return (instance.component as Notifier).deliver(fromWireJson<Notification>(call.request.notificationJson));
      })().then(
        (outcome) =>
          callback(null, outcome.ok
            ? { ok: true, detail: outcome.detail ?? '', retryable: false, error: '', retryAfterMs: 0 }
            : { ok: false, detail: '', retryable: outcome.retryable, error: outcome.error, retryAfterMs: outcome.retryAfterMs ?? 0 }),
        (error) => callback(null, { ok: false, detail: '', retryable: true, error: `deliver() threw: ${error instanceof Error ? error.message : String(error)}`, retryAfterMs: 0 }),
      );
    },

    shutdown: (call: ServerUnaryCall<{ instanceId: string }, unknown>, callback: sendUnaryData<{ error: undefined | ReturnType<typeof errorToWire> }>) => {
      const { instanceId } = call.request;
      const targets = instanceId ? [instances.get(instanceId)].filter((i): i is ChildInstance => i !== undefined) : [...instances.values()];
      void Promise.allSettled(targets.map(shutdownInstance)).then((results) => {
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        callback(null, { error: failed ? errorToWire(failed.reason, ErrorCode.INTERNAL, 'shutdown() failed') : undefined });
        if (!instanceId) options.onShutdownAll();
      });
    },
  };
}

/** The factory's JSON Schema: declared, or derived from a zod v4 schema; '' when neither works. */
async function configJsonSchemaOf(factory: { configJsonSchema?: Record<string, unknown>; configSchema: { '~standard': { vendor: string } } }): Promise<string> {
  if (factory.configJsonSchema) return JSON.stringify(factory.configJsonSchema);
  if (factory.configSchema['~standard'].vendor !== 'zod') return '';
  try {
    const { z } = await import('zod');
    return JSON.stringify(z.toJSONSchema(factory.configSchema as never, { unrepresentable: 'any' }));
  } catch {
    return '';
  }
}
