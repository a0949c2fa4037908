/**
 * The `containers` collector: follows the container engine (list + inspect + event stream, with
 * reconnect and resync), reads each running container's cgroup (v1 or v2) and network namespace
 * counters every interval, and reports metrics, events and the host -> container topology.
 *
 * Lifecycle: `start()` returns at once; the engine connection runs in the background and reports
 * through `ctx.status` (`error` with a coded message while the engine is unreachable, `degraded`
 * while reconnecting after the stream dropped, `ok` when synced). Nothing here throws after start.
 */
import { availableParallelism, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ErrorCode,
  SextantError,
  createCollectorFactory,
  formatError,
  isSextantError,
  type Attributes,
  type Collector,
  type CollectorContext,
  type MetricKind,
  type MetricType,
  type SelfCounter,
  type SextantEvent,
  type Severity,
} from '@sextant/plugin-api';
import { CounterRate } from '@sextant/plugin-kit';
import { locateContainerCgroup, type CgroupLocation } from './cgroups/cgroup-locator.js';
import { CgroupStatsReader } from './cgroups/cgroup-stats-reader.js';
import { STAT_COUNT, Stat } from './cgroups/container-stats.js';
import { containersConfigSchema, containersDefaults, resolveSocketPath, type ContainersConfig } from './config.js';
import { containerEntity, containerResource } from './container-entity.js';
import { ContainerFilter } from './container-filter.js';
import { EngineClient, containerInfoFromInspect, type ContainerInfo, type EngineEvent } from '@sextant/docker-engine';
import { sumNetDev } from './network/net-dev.js';

interface SeriesSpec {
  readonly metric: string;
  readonly unit: string;
  readonly type: MetricType;
  readonly kind?: MetricKind;
  readonly description: string;
  readonly attributes: Attributes;
}

/** Every series the collector writes per container, in a fixed order (index = Metric.*). */
export const CONTAINER_SERIES: readonly SeriesSpec[] = [
  { metric: 'container.cpu.usage', unit: '{cpu}', type: 'gauge', description: 'CPU used, in cores (1 = one core busy).', attributes: {} },
  { metric: 'container.cpu.utilization', unit: '1', type: 'gauge', kind: 'utilization', description: 'CPU used relative to the CPU limit (host cores when unlimited), 0..1.', attributes: {} },
  { metric: 'container.cpu.throttled.periods', unit: '{period}/s', type: 'rate', kind: 'saturation', description: 'CFS periods in which the container was throttled, per second.', attributes: {} },
  { metric: 'container.cpu.throttled.time', unit: 's/s', type: 'rate', kind: 'saturation', description: 'Time throttled per second of wall time.', attributes: {} },
  { metric: 'container.memory.usage', unit: 'By', type: 'gauge', kind: 'memory', description: 'Memory in use excluding inactive page cache (like docker stats).', attributes: {} },
  { metric: 'container.memory.utilization', unit: '1', type: 'gauge', kind: 'utilization', description: 'Memory usage relative to the limit (host memory when unlimited), 0..1.', attributes: {} },
  { metric: 'container.memory.oom_kills', unit: '{kill}', type: 'counter', description: 'Processes killed by the OOM killer in the container since it started.', attributes: {} },
  { metric: 'container.disk.io', unit: 'By/s', type: 'rate', kind: 'throughput', description: 'Block device bytes read per second.', attributes: { 'disk.io.direction': 'read' } },
  { metric: 'container.disk.io', unit: 'By/s', type: 'rate', kind: 'throughput', description: 'Block device bytes written per second.', attributes: { 'disk.io.direction': 'write' } },
  { metric: 'container.pids.count', unit: '{process}', type: 'gauge', description: 'Tasks (processes and threads) in the container.', attributes: {} },
  { metric: 'container.network.io', unit: 'By/s', type: 'rate', kind: 'throughput', description: 'Bytes received per second (all interfaces but lo).', attributes: { 'network.io.direction': 'receive' } },
  { metric: 'container.network.io', unit: 'By/s', type: 'rate', kind: 'throughput', description: 'Bytes sent per second (all interfaces but lo).', attributes: { 'network.io.direction': 'transmit' } },
  { metric: 'container.network.packets', unit: '{packet}/s', type: 'rate', kind: 'throughput', description: 'Packets received per second.', attributes: { 'network.io.direction': 'receive' } },
  { metric: 'container.network.packets', unit: '{packet}/s', type: 'rate', kind: 'throughput', description: 'Packets sent per second.', attributes: { 'network.io.direction': 'transmit' } },
  { metric: 'container.network.errors', unit: '{error}/s', type: 'rate', description: 'Receive errors per second.', attributes: { 'network.io.direction': 'receive' } },
  { metric: 'container.network.errors', unit: '{error}/s', type: 'rate', description: 'Transmit errors per second.', attributes: { 'network.io.direction': 'transmit' } },
];

const M = {
  cpuUsage: 0, cpuUtil: 1, throttledPeriods: 2, throttledTime: 3, memUsage: 4, memUtil: 5, oomKills: 6,
  diskRead: 7, diskWrite: 8, pids: 9, netRxBytes: 10, netTxBytes: 11, netRxPackets: 12, netTxPackets: 13, netRxErrors: 14, netTxErrors: 15,
} as const;

/** Cumulative stats turned into rates, with the series each rate feeds and its scale. */
const RATES: readonly { stat: number; series: number; scale: number }[] = [
  { stat: Stat.cpuUsageNs, series: M.cpuUsage, scale: 1e-9 },
  { stat: Stat.cpuThrottledPeriods, series: M.throttledPeriods, scale: 1 },
  { stat: Stat.cpuThrottledNs, series: M.throttledTime, scale: 1e-9 },
  { stat: Stat.diskReadBytes, series: M.diskRead, scale: 1 },
  { stat: Stat.diskWriteBytes, series: M.diskWrite, scale: 1 },
  { stat: Stat.netRxBytes, series: M.netRxBytes, scale: 1 },
  { stat: Stat.netTxBytes, series: M.netTxBytes, scale: 1 },
  { stat: Stat.netRxPackets, series: M.netRxPackets, scale: 1 },
  { stat: Stat.netTxPackets, series: M.netTxPackets, scale: 1 },
  { stat: Stat.netRxErrors, series: M.netRxErrors, scale: 1 },
  { stat: Stat.netTxErrors, series: M.netTxErrors, scale: 1 },
];

interface ContainerRecord {
  info: ContainerInfo;
  resource: Attributes;
  entityJson: string;
  slot: number;
  location: CgroupLocation | undefined;
  locatedPid: number;
  /** Interned series ids, -1 until first written. */
  readonly series: Int32Array;
  readonly rates: CounterRate[];
}

const EVENT_TYPES: Record<string, { type: string; verb: string; severity: Severity }> = {
  start: { type: 'container.start', verb: 'started', severity: 'info' },
  stop: { type: 'container.stop', verb: 'stopped', severity: 'info' },
  die: { type: 'container.die', verb: 'exited', severity: 'info' },
  oom: { type: 'container.oom', verb: 'ran out of memory (OOM kill)', severity: 'critical' },
  restart: { type: 'container.restart', verb: 'restarted', severity: 'warning' },
};

/** Actions after which the collector re-inspects the container. */
const REINSPECT = new Set(['create', 'start', 'restart', 'die', 'stop', 'kill', 'oom', 'pause', 'unpause', 'rename', 'update']);

export class ContainersCollector implements Collector {
  private readonly client: EngineClient;
  private readonly filter: ContainerFilter;
  private readonly extraLabels: ReadonlySet<string>;
  private readonly records = new Map<string, ContainerRecord>();
  private readonly reader: CgroupStatsReader;
  private stats = new Float64Array(64 * STAT_COUNT);
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  private readonly net = new Float64Array(6);
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private cancelSleep: (() => void) | undefined;
  private wakeSleep: (() => void) | undefined;
  private eventQueue: Promise<void> = Promise.resolve();
  private closed = false;
  private connected = false;
  private lastListAt = Number.NEGATIVE_INFINITY;
  private hostCpus = availableParallelism();
  private hostMemory = totalmem();
  private runtime = 'docker';
  private readonly hostEntity: string;
  private readonly counters: {
    engineErrors: SelfCounter;
    reconnects: SelfCounter;
    eventParseErrors: SelfCounter;
    cgroupParseErrors: SelfCounter;
    cgroupMissing: SelfCounter;
    netdevParseErrors: SelfCounter;
    vanished: SelfCounter;
    seriesLimit: SelfCounter;
  };

  constructor(private readonly ctx: CollectorContext<ContainersConfig>) {
    const cfg = ctx.config;
    this.client = new EngineClient(resolveSocketPath(cfg.socket), cfg.requestTimeout);
    this.filter = new ContainerFilter(cfg.include, cfg.exclude);
    this.extraLabels = new Set(cfg.labels);
    this.hostEntity = `host:${String(ctx.hostResource['host.name'] ?? 'localhost')}`;
    const m = ctx.metrics;
    this.counters = {
      engineErrors: m.counter('engine_errors_total', 'Failed attempts to reach the container engine, by error code.'),
      reconnects: m.counter('engine_reconnects_total', 'Times the engine event stream ended and was reopened.'),
      eventParseErrors: m.counter('event_parse_errors_total', 'Engine event stream lines that were not JSON.'),
      cgroupParseErrors: m.counter('cgroup_parse_errors_total', 'Malformed cgroup files, by file.'),
      cgroupMissing: m.counter('cgroup_files_missing_total', 'Expected cgroup files that could not be read, by file.'),
      netdevParseErrors: m.counter('netdev_parse_errors_total', 'Malformed /proc/<pid>/net/dev files.'),
      vanished: m.counter('containers_vanished_total', 'Containers listed by the engine but gone before they could be inspected.'),
      seriesLimit: m.counter('series_limit_total', 'Series not written because the plugin series limit was reached.'),
    };
    this.reader = new CgroupStatsReader((file, kind) => (kind === 'missing' ? this.counters.cgroupMissing : this.counters.cgroupParseErrors).add(1, { file }));
  }

  start(): void {
    this.ctx.status.set('starting', `connecting to the container engine at ${this.client.socketPath}`);
    this.loop = this.engineLoop();
  }

  async collect(signal: AbortSignal): Promise<void> {
    if (this.connected && this.ctx.clock.now() - this.lastListAt >= this.ctx.config.stateRefresh) {
      try {
        await this.resync(signal);
      } catch (e) {
        this.ctx.logger.warn(`container list refresh failed: ${formatError(e)}`);
      }
    }
    const now = this.ctx.clock.now();
    for (const record of this.records.values()) {
      if (record.info.state !== 'running' || record.info.pid <= 0) continue;
      this.sampleContainer(record, now);
    }
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.cancelSleep?.();
    this.wakeSleep?.();
    await this.loop;
    await this.eventQueue;
  }

  // -------------------------------------------------------------------------------------------
  // engine connection

  private async engineLoop(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      try {
        await this.client.connect(this.abort.signal);
        this.runtime = this.client.runtime;
        await this.readHostCapacity();
        let opened!: () => void;
        const open = new Promise<void>((r) => (opened = r));
        const stream = this.client.followEvents(
          (e) => this.enqueueEvent(e),
          () => this.counters.eventParseErrors.add(1),
          this.abort.signal,
          opened,
        );
        // Subscribe before listing so nothing that happens during the resync is missed.
        await Promise.race([open, stream]);
        if (this.closed) break;
        await this.resync(this.abort.signal);
        this.connected = true;
        failures = 0;
        this.ctx.status.set('ok', `${this.client.runtime} API ${this.client.apiVersion}, ${this.records.size} containers`);
        await stream;
        this.connected = false;
        if (this.closed) break;
        this.counters.reconnects.add(1);
        this.ctx.status.set('degraded', `event stream from ${this.client.socketPath} ended (engine restarted?); reconnecting`, ErrorCode.CONNECTION_FAILED);
      } catch (e) {
        this.connected = false;
        if (this.closed) break;
        failures++;
        const err = isSextantError(e) ? e : new SextantError(ErrorCode.CONNECTION_FAILED, formatError(e));
        this.counters.engineErrors.add(1, { code: err.code });
        if (failures === 1) this.ctx.logger.warn(formatError(err));
        this.ctx.status.set('error', formatError(err), err.code);
      }
      await this.sleep(Math.min(this.ctx.config.maxBackoff, 250 * 2 ** Math.min(failures, 16)));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakeSleep = resolve;
      this.cancelSleep = this.ctx.clock.setTimeout(resolve, ms);
    });
  }

  private async readHostCapacity(): Promise<void> {
    try {
      const info = await this.client.info(this.abort.signal);
      if (typeof info.NCPU === 'number' && info.NCPU > 0) this.hostCpus = info.NCPU;
      if (typeof info.MemTotal === 'number' && info.MemTotal > 0) this.hostMemory = info.MemTotal;
    } catch {
      // keep the local values
    }
  }

  /** Lists every container, inspects new or changed ones, forgets removed ones. */
  private async resync(signal: AbortSignal): Promise<void> {
    const list = await this.client.listContainers(signal);
    this.lastListAt = this.ctx.clock.now();
    const seen = new Set<string>();
    const toInspect: string[] = [];
    for (const entry of Array.isArray(list) ? list : []) {
      if (typeof entry?.Id !== 'string') continue;
      seen.add(entry.Id);
      const known = this.records.get(entry.Id);
      if (!known || known.info.state !== entry.State) toInspect.push(entry.Id);
    }
    for (const id of [...this.records.keys()]) if (!seen.has(id)) this.removeRecord(id);
    const workers = Array.from({ length: Math.min(8, toInspect.length) }, async () => {
      for (let id = toInspect.pop(); id !== undefined; id = toInspect.pop()) await this.refresh(id, signal);
    });
    await Promise.all(workers);
    this.ctx.sink.flush();
  }

  /** Inspects one container and updates its record; a vanished container is removed. */
  private async refresh(id: string, signal: AbortSignal): Promise<ContainerInfo | undefined> {
    const raw = await this.client.inspect(id, signal);
    const info = raw ? containerInfoFromInspect(raw) : undefined;
    if (!info) {
      this.counters.vanished.add(1);
      this.removeRecord(id);
      return undefined;
    }
    this.upsertRecord(info);
    return info;
  }

  private enqueueEvent(e: EngineEvent): void {
    this.eventQueue = this.eventQueue.then(() => this.handleEvent(e)).catch((err) => this.ctx.logger.warn(`container event not handled: ${formatError(err)}`));
  }

  private async handleEvent(e: EngineEvent): Promise<void> {
    if (this.closed) return;
    const id = e.Actor?.ID ?? e.id;
    const action = (e.Action ?? e.status ?? '').trim();
    if (typeof id !== 'string' || !action || (e.Type !== undefined && e.Type !== 'container')) return;
    const timestamp = typeof e.timeNano === 'number' ? Math.floor(e.timeNano / 1e6) : typeof e.time === 'number' ? e.time * 1000 : this.ctx.clock.now();
    if (action === 'destroy') {
      this.removeRecord(id);
      this.ctx.sink.flush();
      return;
    }
    let info = this.records.get(id)?.info;
    if (REINSPECT.has(action) || action.startsWith('health_status') || !info) {
      info = (await this.refresh(id, this.abort.signal).catch(() => undefined)) ?? info;
    }
    const attrs = e.Actor?.Attributes ?? {};
    const record = this.records.get(id);
    if (!record && info && !this.filter.accepts(info)) return;
    const resource: Attributes = record?.resource ?? {
      ...this.ctx.hostResource,
      'container.id': id,
      ...(attrs.name ? { 'container.name': attrs.name } : {}),
      ...(attrs.image ? { 'container.image.name': attrs.image } : {}),
    };
    const name = String(resource['container.name'] ?? id.slice(0, 12));
    const spec = EVENT_TYPES[action];
    if (spec) {
      const exitCode = Number(attrs.exitCode);
      const attributes: Record<string, string | number | boolean> = {};
      let title = `container ${name} ${spec.verb}`;
      let severity = spec.severity;
      if (action === 'die' && Number.isFinite(exitCode)) {
        attributes['container.exit_code'] = exitCode;
        title += ` with code ${exitCode}`;
        if (exitCode !== 0) severity = 'warning';
        if (info?.oomKilled) attributes['container.oom_killed'] = true;
      }
      this.emitEvent({ type: spec.type, timestamp, title, resource, attributes, severity, source: 'containers' });
    } else if (action.startsWith('health_status')) {
      const status = action.slice(action.indexOf(':') + 1).trim() || info?.health || 'unknown';
      this.emitEvent({
        type: 'container.health',
        timestamp,
        title: `container ${name} is ${status}`,
        resource,
        attributes: { 'container.health': status },
        severity: status === 'unhealthy' ? 'warning' : 'info',
        source: 'containers',
      });
    }
    this.ctx.sink.flush();
  }

  private emitEvent(event: SextantEvent): void {
    this.ctx.sink.event(event);
  }

  // -------------------------------------------------------------------------------------------
  // records and topology

  private upsertRecord(info: ContainerInfo): void {
    if (!this.filter.accepts(info)) {
      this.removeRecord(info.id);
      return;
    }
    let record = this.records.get(info.id);
    const resource = containerResource(info, this.ctx.hostResource, this.runtime, this.extraLabels);
    if (!record) {
      record = {
        info,
        resource,
        entityJson: '',
        slot: this.allocateSlot(),
        location: undefined,
        locatedPid: -1,
        series: new Int32Array(CONTAINER_SERIES.length).fill(-1),
        rates: RATES.map(() => new CounterRate()),
      };
      this.records.set(info.id, record);
    } else {
      if (JSON.stringify(record.resource) !== JSON.stringify(resource)) {
        record.resource = resource;
        record.series.fill(-1);
      }
      record.info = info;
    }
    const entity = containerEntity(info, this.runtime);
    const json = JSON.stringify(entity.attributes);
    if (json !== record.entityJson) {
      record.entityJson = json;
      this.ctx.sink.topology({ upsertEntities: [entity], upsertEdges: [{ from: entity.id, to: this.hostEntity, type: 'runs-on' }] });
    }
  }

  private removeRecord(id: string): void {
    const record = this.records.get(id);
    if (!record) return;
    this.records.delete(id);
    this.freeSlots.push(record.slot);
    this.ctx.sink.topology({ removeEntities: [`container:${id}`] });
  }

  private allocateSlot(): number {
    const free = this.freeSlots.pop();
    if (free !== undefined) return free;
    const slot = this.nextSlot++;
    if ((slot + 1) * STAT_COUNT > this.stats.length) {
      const bigger = new Float64Array(this.stats.length * 2);
      bigger.set(this.stats);
      this.stats = bigger;
    }
    return slot;
  }

  // -------------------------------------------------------------------------------------------
  // metrics

  private sampleContainer(record: ContainerRecord, now: number): void {
    const cfg = this.ctx.config;
    const info = record.info;
    if (record.locatedPid !== info.pid || !record.location) {
      record.location = locateContainerCgroup(info.id, info.pid, cfg.cgroupRoot, cfg.procRoot);
      record.locatedPid = info.pid;
    }
    const s = this.stats;
    const o = record.slot * STAT_COUNT;
    if (record.location) this.reader.readInto(record.location, s, o);
    else for (let k = 0; k < STAT_COUNT; k++) s[o + k] = Number.NaN;
    for (let k = Stat.netRxBytes; k <= Stat.netTxErrors; k++) s[o + k] = Number.NaN;
    // A host-network container shares the host's namespace: its counters would be the host's.
    if (cfg.network && info.networkMode !== 'host') this.readNetwork(info.pid, s, o);

    let cores = Number.NaN;
    for (let i = 0; i < RATES.length; i++) {
      const r = RATES[i];
      const value = s[o + r.stat];
      if (Number.isNaN(value)) continue;
      const rate = record.rates[i].update(value, now);
      if (rate === undefined) continue;
      if (r.series === M.cpuUsage) cores = rate * r.scale;
      this.write(record, r.series, rate * r.scale, now);
    }
    if (!Number.isNaN(cores)) {
      const cgroupLimit = s[o + Stat.cpuLimitCores];
      const limit = Number.isFinite(cgroupLimit) && cgroupLimit > 0 ? cgroupLimit : (info.cpuLimitCores ?? this.hostCpus);
      this.write(record, M.cpuUtil, cores / limit, now);
    }
    const usage = s[o + Stat.memoryUsageBytes];
    if (!Number.isNaN(usage)) {
      const inactive = s[o + Stat.memoryInactiveFileBytes];
      const used = Number.isNaN(inactive) ? usage : Math.max(0, usage - inactive);
      this.write(record, M.memUsage, used, now);
      const cgroupLimit = s[o + Stat.memoryLimitBytes];
      const limit = Number.isFinite(cgroupLimit) && cgroupLimit > 0 ? cgroupLimit : (info.memoryLimitBytes ?? this.hostMemory);
      this.write(record, M.memUtil, used / limit, now);
    }
    this.write(record, M.oomKills, s[o + Stat.oomKills], now);
    this.write(record, M.pids, s[o + Stat.pids], now);
  }

  private readNetwork(pid: number, s: Float64Array, o: number): void {
    let text: string;
    try {
      text = readFileSync(join(this.ctx.config.procRoot, String(pid), 'net', 'dev'), 'utf8');
    } catch {
      return;
    }
    if (sumNetDev(text, this.net) < 0) {
      this.counters.netdevParseErrors.add(1);
      return;
    }
    for (let k = 0; k < 6; k++) s[o + Stat.netRxBytes + k] = this.net[k];
  }

  private write(record: ContainerRecord, index: number, value: number, now: number): void {
    if (!Number.isFinite(value)) return;
    let id = record.series[index];
    if (id < 0) {
      const spec = CONTAINER_SERIES[index];
      try {
        id = this.ctx.sink.series({ ...spec, resource: record.resource });
      } catch (e) {
        if (isSextantError(e) && e.code === ErrorCode.LIMIT_EXCEEDED) {
          this.counters.seriesLimit.add(1);
          return;
        }
        throw e;
      }
      record.series[index] = id;
    }
    this.ctx.sink.sample(id, value, now);
  }
}

export const containersCollectorFactory = createCollectorFactory<ContainersConfig>({
  type: 'containers',
  stability: 'alpha',
  description: 'Docker/Podman containers: engine discovery and events, cgroup v1/v2 CPU, memory, I/O, PIDs and network metrics, host -> container topology.',
  configSchema: containersConfigSchema,
  defaults: containersDefaults,
  create: (ctx) => new ContainersCollector(ctx),
});
