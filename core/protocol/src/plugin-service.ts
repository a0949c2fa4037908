/**
 * The child's implementation of sextant.plugin.v1.Plugin over a {@link LocalFactoryRegistry}: one
 * component per configured instance, each with its own output stream.
 */
import {
  ErrorCode,
  PLUGIN_CONTRACT_VERSION,
  SextantError,
  mergeDefaults,
  type AnomalyInput,
  type Attributes,
  type Clock,
  type Collector,
  type Component,
  type Correlator,
  type Detector,
  type ExtensionKind,
  type IncidentUpdate,
  type Notifier,
  type SeriesCatalog,
  type SeriesDescriptor,
  type SextantPlugin,
} from '@sextant/plugin-api';
import { status as grpcStatus, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
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
  PluginError,
  PluginServer,
  SeriesDefinition,
} from './gen/sextant/plugin/v1/plugin.js';
import { ExpectationCollector } from './expectation-columns.js';
import { feedbackRecordToWire } from './feedback-wire.js';
import type { LocalFactoryRegistry } from './local-registry.js';
import { errorToWire } from './plugin-error.js';
import { readSampleColumns } from './sample-columns.js';
import { attributesFromWire, descriptorFromWire } from './series-wire.js';
import { TopologyMirror, topologyFromWire } from './topology-wire.js';
import { anomalyFromWire, anomalyToWire, eventFromWire, incidentUpdateToWire, notificationFromWire } from './model-wire.js';
import { fromJsonText, toJsonText } from './json-text.js';

const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

/** The optional methods a component may implement, reported to the host in ConfigureResponse.methods. */
const OPTIONAL_METHODS = ['onEvent', 'expectation', 'snapshot', 'restore', 'feedback', 'feedbackLog', 'pauseLearning', 'tick'] as const;

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
  /** The host's topology as pushed down the Detect/Correlate stream. */
  readonly topology?: TopologyMirror;
  /** Detectors with expectation(): what to report after each batch. */
  readonly expectations?: ExpectationCollector;
  /** Where emit()/publish() results and answers go (Detect/Correlate stream), queued until it is open. */
  readonly replies: ReplyChannel<DetectResponse> | ReplyChannel<CorrelateResponse>;
}

/** Results bound for the host, gathered into one response message per turn of the event loop. */
class ReplyChannel<T extends DetectResponse | CorrelateResponse> {
  private pending: T | undefined;
  private scheduled = false;
  stream: { write(message: T): boolean; end(): void } | undefined;
  constructor(
    private readonly empty: () => T,
    /** Fills in what is gathered elsewhere (expectations) right before a message is written. */
    private readonly complete?: (message: T) => void,
  ) {}
  /** Changes the pending message (creating it) and schedules a write. */
  edit(change: (message: T) => void): void {
    this.pending ??= this.empty();
    change(this.pending);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }
  flush(): void {
    this.scheduled = false;
    if (!this.stream || !this.pending) return;
    const message = this.pending;
    this.pending = undefined;
    this.complete?.(message);
    this.stream.write(message);
  }
}

const MAX_PENDING_RESULTS = 100_000;
const emptyDetectResponse = (): DetectResponse => ({ anomalies: [], expectations: undefined, feedback: [], feedbackLog: undefined, snapshot: undefined });
const emptyCorrelateResponse = (): CorrelateResponse => ({ incidentUpdates: [], snapshot: undefined });

function methodsOf(component: Component): string[] {
  return OPTIONAL_METHODS.filter((m) => typeof (component as unknown as Record<string, unknown>)[m] === 'function');
}

function snapshotReply(component: Detector | Correlator, requestId: number): { requestId: number; state: Buffer; error: PluginError | undefined } {
  try {
    if (!component.snapshot) throw new SextantError(ErrorCode.INTERNAL, 'this component has no snapshot()');
    const bytes = component.snapshot();
    return { requestId, state: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), error: undefined };
  } catch (error) {
    return { requestId, state: Buffer.alloc(0), error: errorToWire(error, ErrorCode.INTERNAL, 'snapshot() failed') };
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
        defaultsJson: toJsonText(factory.defaults ?? {}),
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
    const merged = mergeDefaults(factory.defaults ?? {}, fromJsonText(configJson) ?? {});
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
        let topology: TopologyMirror | undefined;
        let expectations: ExpectationCollector | undefined;
        let replies: ReplyChannel<DetectResponse> | ReplyChannel<CorrelateResponse>;
        if (kind === 'correlator') replies = new ReplyChannel(emptyCorrelateResponse);
        else {
          replies = new ReplyChannel(emptyDetectResponse, (message) => {
            message.expectations = expectations?.take();
          });
        }
        try {
          if (kind === 'collector') {
            sink = new ChildCollectorSink(output);
            const hostResource: Attributes = attributesFromWire(req.hostResource);
            component = await registry.collectors.get(req.type)!.create({ ...base, sink, hostResource, intervalMs: req.intervalMs || 10_000 });
          } else if (kind === 'detector') {
            catalog = new StreamCatalog();
            topology = new TopologyMirror();
            const detectReplies = replies as ReplyChannel<DetectResponse>;
            const detector = await registry.detectors.get(req.type)!.create({
              ...base,
              catalog,
              topology,
              emit: (anomaly: AnomalyInput) =>
                detectReplies.edit((m) => {
                  m.anomalies.push(anomalyToWire(anomaly));
                  if (m.anomalies.length > MAX_PENDING_RESULTS) m.anomalies.shift();
                }),
            });
            if (detector.expectation) expectations = new ExpectationCollector(detector.expectation.bind(detector));
            component = detector;
          } else if (kind === 'correlator') {
            catalog = new StreamCatalog();
            topology = new TopologyMirror();
            const correlateReplies = replies as ReplyChannel<CorrelateResponse>;
            component = await registry.correlators.get(req.type)!.create({
              ...base,
              catalog,
              topology,
              publish: (update: IncidentUpdate) =>
                correlateReplies.edit((m) => {
                  m.incidentUpdates.push(incidentUpdateToWire(update));
                  if (m.incidentUpdates.length > MAX_PENDING_RESULTS) m.incidentUpdates.shift();
                }),
            });
          } else {
            component = await registry.notifiers.get(req.type)!.create(base);
          }
        } catch (error) {
          output.close();
          throw error;
        }
        instances.set(req.instanceId, { id: req.instanceId, kind: kind!, type: req.type, component, output, controller, sink, catalog, topology, expectations, replies });
        return methodsOf(component);
      })().then(
        (methods) => callback(null, { error: undefined, methods }),
        (error) => callback(null, { error: errorToWire(error, ErrorCode.CREATE_FAILED, `create() of ${req.type} failed`), methods: [] }),
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
        if (!instance) {
          try {
            instance = find(req.instanceId, 'detector');
          } catch (error) {
            call.emit('error', { code: grpcStatus.NOT_FOUND, details: String(error instanceof Error ? error.message : error) });
            return;
          }
          instance.replies.stream = call as unknown as { write(message: DetectResponse | CorrelateResponse): boolean; end(): void };
          instance.replies.flush();
        }
        const inst = instance;
        const detector = inst.component as Detector;
        const replies = inst.replies as ReplyChannel<DetectResponse>;
        const guard = (what: string, part: () => void) => {
          try {
            part();
          } catch (error) {
            if (what === 'process()') inst.output.selfMetrics.counter('process_errors_total', 'detector process() calls that threw').add(1);
            inst.output.logger.warn(`${what} threw: ${error instanceof Error ? error.message : String(error)}`);
          }
        };
        const sendFeedbackLog = () => {
          if (detector.feedbackLog) replies.edit((m) => (m.feedbackLog = { records: detector.feedbackLog!().map(feedbackRecordToWire) }));
        };
        if (req.series.length) inst.catalog!.define(req.series);
        if (req.topology) inst.topology!.apply(topologyFromWire(req.topology));
        if (req.restore !== undefined) {
          guard('restore()', () => detector.restore?.(new Uint8Array(req.restore!)));
          sendFeedbackLog();
          // The restored model answers expectation() before any new batch, as it does in-process.
          if (inst.expectations) {
            const n = inst.catalog!.size;
            inst.expectations.afterBatch(Uint32Array.from({ length: n }, (_, i) => i), n);
            replies.edit(() => undefined);
          }
        }
        if (req.batch && req.batch.count > 0) {
          const batch = readSampleColumns(req.batch);
          if (!batch) {
            inst.output.selfMetrics.counter('protocol_errors_total', 'malformed messages from the host').add(1);
          } else {
            guard('process()', () => detector.process(batch));
            if (inst.expectations) {
              inst.expectations.afterBatch(batch.series, batch.length);
              if (inst.expectations.size > 0) replies.edit(() => undefined);
            }
          }
        }
        if (req.event) {
          const event = eventFromWire(req.event);
          guard('onEvent()', () => detector.onEvent?.(event));
        }
        if (req.pauseLearning) {
          const { match, paused } = req.pauseLearning;
          guard('pauseLearning()', () => detector.pauseLearning?.(attributesFromWire(match), paused));
        }
        if (req.feedback) {
          const f = req.feedback;
          let threshold: number | undefined;
          let error: PluginError | undefined;
          try {
            if (!detector.feedback) throw new SextantError(ErrorCode.INTERNAL, 'this detector has no feedback()');
            const result = detector.feedback(f.series, f.verdict as 'not-a-problem' | 'missed-here', f.timestamp, f.score);
            if (typeof result === 'object') throw new SextantError(ErrorCode.INTERNAL, 'feedback() must answer synchronously in a plugin process');
            threshold = result;
          } catch (e) {
            error = errorToWire(e, ErrorCode.INTERNAL, 'feedback() failed');
          }
          replies.edit((m) => m.feedback.push({ requestId: f.requestId, threshold, error }));
          if (!error) sendFeedbackLog();
        }
        if (req.snapshotRequest > 0) {
          const reply = snapshotReply(detector, req.snapshotRequest);
          replies.edit((m) => (m.snapshot = reply));
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
            instance.replies.stream = call as unknown as { write(message: DetectResponse | CorrelateResponse): boolean; end(): void };
            instance.replies.flush();
          }
          const correlator = instance.component as Correlator;
          if (req.series.length) instance.catalog!.define(req.series);
          if (req.topology) instance.topology!.apply(topologyFromWire(req.topology));
          if (req.restore !== undefined) correlator.restore?.(new Uint8Array(req.restore));
          if (req.anomaly) correlator.onAnomaly(anomalyFromWire(req.anomaly));
          if (req.event) correlator.onEvent?.(eventFromWire(req.event));
          if (req.tickNowMs > 0) correlator.tick?.(req.tickNowMs);
          if (req.snapshotRequest > 0) {
            const reply = snapshotReply(correlator, req.snapshotRequest);
            (instance.replies as ReplyChannel<CorrelateResponse>).edit((m) => (m.snapshot = reply));
          }
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
        const notification = call.request.notification ? notificationFromWire(call.request.notification) : undefined;
        if (!notification) throw new SextantError(ErrorCode.INTERNAL, 'Notify without a notification (or its incident)');
        return (instance.component as Notifier).deliver(notification);
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
