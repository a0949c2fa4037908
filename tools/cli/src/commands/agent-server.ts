/**
 * `sextant server` (ingest + storage + analysis + notifications + API) and `sextant agent`
 * (collectors on one host, shipping to a server over gRPC): the two halves of `sextant run`.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { formatError, type Attributes } from '@sextant/plugin-api';
import type { ClusterMember } from '@sextant/cluster';
import type { IngestClient, IngestServer, OtlpHttpReceiver, SeriesDefinition } from '@sextant/protocol';
import { ApiServer, type Runtime, type RuntimeConfig } from '@sextant/runtime';
import { parseDuration } from '@sextant/plugin-kit';
import type { Command, OptionSpec } from '../command.js';
import { UsageError } from '../command.js';
import { startAutodiscovery } from '../autodiscovery.js';
import { allConfigIssues, announceDefaults, loadConfig, loadRuntime } from '../distribution.js';
import { printIssues } from '../output/issues.js';
import { logFlags, logOptions } from '../output/log-flags.js';

const common: Record<string, OptionSpec> = {
  config: { type: 'string', short: 'c', value: 'FILE', description: 'configuration file' },
  token: { type: 'string', value: 'TOKEN', description: 'shared token (default: $SEXTANT_TOKEN, else server.token); at least 16 characters' },
  duration: { type: 'string', value: 'DURATION', description: 'stop cleanly after this long' },
  ...logFlags,
};

function readPem(path: unknown, what: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(String(path));
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${String(path)}: ${(e as Error).message}`);
  }
}

function tokenFrom(values: Record<string, unknown>, configToken: string | undefined): string {
  const token = (values.token as string | undefined) ?? process.env.SEXTANT_TOKEN ?? configToken;
  if (!token || token.length < 16) throw new UsageError('a token of at least 16 characters is required: --token, $SEXTANT_TOKEN or server.token in the config');
  return token;
}

/** Waits for SIGINT/SIGTERM or the duration; returns a promise that resolves when it is time to stop. */
function stopSignal(durationMs: number | undefined): { done: Promise<void>; dispose: () => void } {
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const onSig = (sig: string) => {
    process.stderr.write(`\nreceived ${sig}, stopping...\n`);
    resolveDone();
  };
  const a = () => onSig('SIGINT');
  const b = () => onSig('SIGTERM');
  process.once('SIGINT', a);
  process.once('SIGTERM', b);
  const timer = durationMs !== undefined ? setTimeout(resolveDone, durationMs) : undefined;
  return {
    done,
    dispose() {
      process.off('SIGINT', a);
      process.off('SIGTERM', b);
      if (timer) clearTimeout(timer);
    },
  };
}

function parseDurationFlag(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const ms = parseDuration(String(v));
  if (ms === undefined) throw new UsageError(`--duration must be a duration like 30s (got "${String(v)}")`);
  return ms;
}

/**
 * `--store` makes a server one member of a group (docs/architecture.md, "Scale-out"): the
 * detectors run per owned partition inside @sextant/cluster instead of in the runtime.
 */
interface GroupMembership {
  readonly store: string;
  readonly memberId: string;
  readonly group: string;
  readonly detectors: RuntimeConfig['detectors'];
  /** Run once for the group by its elected leader (incidents, silences and the outbox in Redis). */
  readonly correlators: RuntimeConfig['correlators'];
}

const STORE_URL = /^(rediss?|rediss?\+cluster):\/\//;

function membershipFrom(values: Record<string, unknown>): Omit<GroupMembership, 'detectors' | 'correlators'> | undefined {
  const store = values.store as string | undefined;
  if (store === undefined) return undefined;
  if (!STORE_URL.test(store)) throw new UsageError(`--store takes a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL (got "${store.replace(/\/\/[^@/]*@/, '//***@')}")`);
  const listenPort = String(values.listen ?? '').split(':').pop();
  // Stable across restarts (a restarted member finds its outbox again), unique per host and port.
  const memberId = (values['member-id'] as string | undefined) ?? `${hostname()}:${listenPort && listenPort !== '0' ? listenPort : process.pid}`;
  if (!/^[A-Za-z0-9._:@-]{1,100}$/.test(memberId)) throw new UsageError(`--member-id may use letters, digits and . _ : @ - (got "${memberId}")`);
  const group = (values.group as string | undefined) ?? 'sextant';
  if (!/^[A-Za-z0-9._-]{1,50}$/.test(group)) throw new UsageError(`--group may use letters, digits and . _ - (got "${group}")`);
  return { store, memberId, group };
}

async function startRole(values: Record<string, unknown>, role: 'server' | 'agent'): Promise<Runtime | number> {
  return (await startRoleWithGroup(values, role)).runtime;
}

async function startRoleWithGroup(values: Record<string, unknown>, role: 'server' | 'agent'): Promise<{ runtime: Runtime | number; membership?: GroupMembership }> {
  let movedAway: string[] = [];
  const source = loadConfig(values.config as string | undefined, (raw, fromFile) => {
    // A server runs the collectors its file names (deploy and Chef/Puppet/Salt receivers live
    // there), not the default host/containers ones, which belong to agents; an agent ships to the
    // server, whose detectors, correlators and notifiers judge its data.
    if (role === 'server') {
      if (!fromFile.has('collectors')) raw.collectors = {};
    } else {
      movedAway = ['detectors', 'correlators', 'notifiers'].filter((s) => fromFile.has(s) && Object.keys((raw[s] as object | undefined) ?? {}).length > 0);
      raw.detectors = {};
      raw.correlators = {};
      raw.notifiers = {};
      // The server keeps the history (24 h); an agent only serves its optional local API, so one
      // hour per series is enough and keeps its memory flat over a day (issue 20: agent <= 64 MiB).
      const store = ((raw.store ??= {}) as Record<string, unknown>);
      store.points ??= 360;
    }
    const server = ((raw.server ??= {}) as Record<string, unknown>);
    if (values.port !== undefined) server.port = Number(values.port);
    if (role === 'agent' && values.port === undefined) server.enabled = false;
    if (role === 'server') raw.autodiscovery = { ...(raw.autodiscovery as object), enabled: false };
  });
  if (!source.config) {
    printIssues(await allConfigIssues(source), source.file);
    return { runtime: 2 };
  }
  const joining = role === 'server' ? membershipFrom(values) : undefined;
  const membership = joining ? { ...joining, detectors: source.config.detectors, correlators: source.config.correlators } : undefined;
  // A member's detectors run per owned partition (ClusterMember), its correlators once for the
  // group on the elected leader, whose outbox in Redis delivers every notification (GroupCorrelation).
  const config = membership ? { ...source.config, detectors: {}, correlators: {} } : source.config;
  const runtime = await loadRuntime(config, logOptions(values));
  const issues = await runtime.validate();
  if (issues.length) {
    printIssues(issues, source.file);
    await runtime.stop();
    return { runtime: 2 };
  }
  announceDefaults(runtime, source, role === 'server' ? source.defaulted.filter((s) => s !== 'collectors') : source.defaulted.filter((s) => s === 'collectors'));
  if (movedAway.length) runtime.logger.info(`agent: ${movedAway.join(', ')} in ${source.file} run on the server this agent ships to, not here`);
  await runtime.start();
  return { runtime, ...(membership ? { membership } : {}) };
}

async function serveApi(runtime: Runtime): Promise<ApiServer | undefined> {
  const cfg = runtime.config.server;
  if (!cfg.enabled) return undefined;
  const api = new ApiServer(runtime, { host: cfg.host, port: cfg.port, token: cfg.token, logger: runtime.logger });
  const where = await api.listen();
  runtime.logger.info(`API listening on ${where.url} (web UI: ${where.url}/)`);
  return api;
}

export const serverCommand: Command = {
  name: 'server',
  summary: 'receive data from agents and OpenTelemetry senders; analyse, store, notify, serve the API',
  usage: 'sextant server [--listen HOST:PORT] [--otlp-http HOST:PORT] (--tls-cert F --tls-key F [--tls-ca F --require-client-cert] | --insecure-loopback) [--token T]',
  options: {
    listen: { type: 'string', value: 'HOST:PORT', description: 'ingest address (sextant.ingest.v1 and OTLP/gRPC metrics)', default: '127.0.0.1:7071' },
    'otlp-http': { type: 'string', value: 'HOST:PORT', description: 'also receive OTLP/HTTP metrics (protobuf and JSON, POST /v1/metrics), e.g. 127.0.0.1:4318' },
    'tls-cert': { type: 'string', value: 'FILE', description: 'server certificate (PEM)' },
    'tls-key': { type: 'string', value: 'FILE', description: 'server private key (PEM)' },
    'tls-ca': { type: 'string', value: 'FILE', description: 'CA that signs agent certificates (mTLS)' },
    'require-client-cert': { type: 'boolean', description: 'refuse agents without a certificate signed by --tls-ca' },
    'insecure-loopback': { type: 'boolean', description: 'plain text, only on a loopback address (local tries)' },
    store: { type: 'string', value: 'URL', description: 'join a group of servers sharing the work through Redis: redis://[user:pass@]HOST:PORT, rediss:// (TLS), redis+cluster://H1:P1,H2:P2 (Redis Cluster)' },
    'member-id': { type: 'string', value: 'ID', description: 'this member\'s id in the group (default <host name>:<listen port>); keep it across restarts' },
    group: { type: 'string', value: 'NAME', description: 'group name: the Redis key prefix shared by its members (default sextant)' },
    port: { type: 'string', short: 'p', value: 'N', description: 'API port' },
    ...common,
  },
  details: 'Point an OpenTelemetry SDK or Collector at the same address (OTLP/gRPC metrics, with "authorization: Bearer <token>").',
  async run({ values }) {
    const durationMs = parseDurationFlag(values.duration);
    const tls = values['tls-cert'] || values['tls-key'] ? { cert: readPem(values['tls-cert'], 'certificate')!, key: readPem(values['tls-key'], 'key')!, ...(values['tls-ca'] ? { ca: readPem(values['tls-ca'], 'CA')! } : {}), ...(values['require-client-cert'] ? { requireClientCert: true } : {}) } : undefined;
    if (!tls && !values['insecure-loopback']) throw new UsageError('give --tls-cert and --tls-key, or --insecure-loopback for a local try');
    if (tls && (!tls.cert || !tls.key)) throw new UsageError('--tls-cert and --tls-key go together');
    const { runtime, membership } = await startRoleWithGroup(values, 'server');
    if (typeof runtime === 'number') return runtime;
    let exit = 0;
    let ingest: IngestServer | undefined;
    let otlpHttp: OtlpHttpReceiver | undefined;
    let api: ApiServer | undefined;
    let member: ClusterMember | undefined;
    let metricsTimer: NodeJS.Timeout | undefined;
    const stop = stopSignal(durationMs);
    try {
      const token = tokenFrom(values, runtime.config.server.token);
      if (membership) {
        const { ClusterMember } = await import('@sextant/cluster');
        member = await ClusterMember.start({ runtime, store: membership.store, detectors: membership.detectors, correlators: membership.correlators, memberId: membership.memberId, group: membership.group });
        const m = member;
        metricsTimer = setInterval(() => m.publishMetrics(), 2000);
        metricsTimer.unref();
      }
      const local = {
        onSeries: (_sourceId: string, _localId: number, descriptor: Parameters<Runtime['registry']['intern']>[0]) => {
          try {
            return runtime.registry.intern(descriptor, _sourceId);
          } catch {
            return null; // store full: refused and counted, never delivered under another id
          }
        },
        onBatch: (sourceId: string, batch: Parameters<Runtime['pipeline']['ingest']>[0]) => runtime.pipeline.ingest(batch, sourceId),
      };
      const samples = member ? member.ingestHandler : local;
      const { IngestServer } = await import('@sextant/protocol');
      ingest = await IngestServer.start({
        address: String(values.listen),
        ...(tls ? { tls } : { insecureLoopback: true }),
        tokens: token,
        logger: runtime.logger,
        maxSeriesPerSource: runtime.config.ingest.maxSeriesPerSource,
        maxSamplesPerSecondPerSource: runtime.config.ingest.maxSamplesPerSecondPerSource,
        ...(runtime.config.ingest.maxSeriesPerToken !== undefined ? { maxSeriesPerToken: runtime.config.ingest.maxSeriesPerToken } : {}),
        // ingest counters (refusals by reason: unauthenticated, series-limit, rate-limited, ...) on /metrics
        metrics: {
          counter: (name, help) => ({ add: (v, attrs) => runtime.telemetry.add(`sextant_${name}`, help, v, attrs) }),
          gauge: (name, help) => ({ set: (v, attrs) => runtime.telemetry.set(`sextant_${name}`, help, v, attrs) }),
        },
        handler: {
          onSeries: samples.onSeries,
          onBatch: samples.onBatch,
          // A member acknowledges agents once their samples are in Redis.
          ...(member ? { ackAfterHandled: member.ingestHandler.ackAfterHandled } : {}),
          onEvents: (sourceId, events) => void events.forEach((e) => runtime.pipeline.ingestEvent(e, sourceId)),
          onTopology: (_sourceId, updates) => void updates.forEach((u) => runtime.pipeline.applyTopology(u)),
        },
      });
      runtime.logger.info(`ingest listening on ${ingest.address} (${tls ? 'TLS' : 'plain text, loopback only'}; OTLP/gRPC metrics on the same port)`);
      if (values['otlp-http']) {
        const { OtlpHttpReceiver } = await import('@sextant/protocol');
        otlpHttp = await OtlpHttpReceiver.start({ address: String(values['otlp-http']), ingest, logger: runtime.logger, ...(tls ? { tls } : {}) });
        runtime.logger.info(`OTLP/HTTP metrics listening on ${tls ? 'https' : 'http'}://${otlpHttp.address}/v1/metrics`);
      }
      api = await serveApi(runtime);
      api?.route('GET', /^\/api\/v1\/ingest$/, (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(ingest!.stats()));
      });
      if (member) {
        const m = member;
        api?.route('GET', /^\/api\/v1\/cluster$/, (_req, res) => {
          m.status().then(
            (status) => {
              res.writeHead(200, { 'content-type': 'application/json' });
              res.end(JSON.stringify(status));
            },
            (e: unknown) => {
              res.writeHead(503, { 'content-type': 'application/json' });
              res.end(JSON.stringify({ error: formatError(e) }));
            },
          );
        });
        if (api) {
          // Other members forward expectations and feedback of this member's partitions here.
          const a = api.app.server.address() as import('node:net').AddressInfo;
          const host = a.address === '0.0.0.0' || a.address === '::' ? hostname() : a.family === 'IPv6' ? `[${a.address}]` : a.address;
          await m.serveApi(api, `http://${host}:${a.port}`);
        }
      }
      await stop.done;
    } catch (e) {
      process.stderr.write(`sextant server: ${formatError(e)}\n`);
      exit = e instanceof UsageError ? 2 : 1;
    } finally {
      stop.dispose();
      if (metricsTimer) clearInterval(metricsTimer);
      await otlpHttp?.shutdown();
      await ingest?.shutdown(2000);
      // Received samples reach their partitions, owned partitions are checkpointed and handed over.
      await member?.stop();
      await api?.close();
      await runtime.stop();
    }
    return exit;
  },
};

export const agentCommand: Command = {
  name: 'agent',
  summary: 'run collectors on this host and ship their data to a sextant server',
  usage: 'sextant agent --server HOST:PORT [--tls-ca F [--tls-cert F --tls-key F] | --insecure] [--token T]',
  options: {
    server: { type: 'string', value: 'HOST:PORT', description: 'the server\'s ingest address' },
    'tls-ca': { type: 'string', value: 'FILE', description: 'CA of the server certificate' },
    'tls-cert': { type: 'string', value: 'FILE', description: 'agent certificate for mTLS' },
    'tls-key': { type: 'string', value: 'FILE', description: 'agent key for mTLS' },
    'server-name': { type: 'string', value: 'NAME', description: 'expected name in the server certificate' },
    insecure: { type: 'boolean', description: 'plain text (server started with --insecure-loopback)' },
    'source-id': { type: 'string', value: 'ID', description: 'stable id of this agent (default agent:<host name>)' },
    port: { type: 'string', short: 'p', value: 'N', description: 'also serve the local API (status, /metrics) on this port' },
    ...common,
  },
  async run({ values }) {
    if (!values.server) throw new UsageError('--server HOST:PORT is required');
    const durationMs = parseDurationFlag(values.duration);
    if (!values.insecure && !values['tls-ca']) throw new UsageError('give --tls-ca FILE (the server certificate\'s CA), or --insecure for a server started with --insecure-loopback');
    const runtime = await startRole(values, 'agent');
    if (typeof runtime === 'number') return runtime;
    let exit = 0;
    let client: IngestClient | undefined;
    let api: ApiServer | undefined;
    const stop = stopSignal(durationMs);
    const discovery = startAutodiscovery(runtime);
    try {
      const token = tokenFrom(values, runtime.config.server.token);
      const { IngestClient } = await import('@sextant/protocol');
      client = new IngestClient({
        address: String(values.server),
        ...(values.insecure ? { insecure: true } : { tls: { ca: readPem(values['tls-ca'], 'CA')!, ...(values['tls-cert'] ? { cert: readPem(values['tls-cert'], 'certificate')!, key: readPem(values['tls-key'], 'key')! } : {}) } }),
        ...(values['server-name'] ? { serverNameOverride: String(values['server-name']) } : {}),
        token,
        sourceId: String(values['source-id'] ?? `agent:${String(runtime.hostResource['host.name'])}`),
        logger: runtime.logger,
      });
      const announced = new Set<number>();
      runtime.pipeline.observe((batch, registry) => {
        const fresh: SeriesDefinition[] = [];
        for (let i = 0; i < batch.length; i++) {
          const id = batch.series[i];
          if (announced.has(id)) continue;
          announced.add(id);
          fresh.push({ localId: id, descriptor: registry.describe(id)! });
        }
        client!.send(fresh, batch);
      });
      runtime.pipeline.onEvent((e) => client!.send([], undefined, [e]));
      runtime.pipeline.onTopology((u) => client!.send([], undefined, undefined, [u]));
      client.send([], undefined, undefined, [{ upsertEntities: runtime.topology.entities() }]);
      api = await serveApi(runtime);
      api?.route('GET', /^\/api\/v1\/agent$/, (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(client!.stats()));
      });
      runtime.logger.info(`shipping to ${String(values.server)} as ${String(values['source-id'] ?? `agent:${String(runtime.hostResource['host.name'] as Attributes[string])}`)}`);
      await stop.done;
    } catch (e) {
      process.stderr.write(`sextant agent: ${formatError(e)}\n`);
      exit = e instanceof UsageError ? 2 : 1;
    } finally {
      stop.dispose();
      await discovery?.shutdown();
      await api?.close();
      await runtime.stop();
      await client?.flush(5000).catch(() => undefined);
      await client?.close();
    }
    return exit;
  },
};
