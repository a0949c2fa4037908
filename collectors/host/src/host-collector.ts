/**
 * The `host` collector: this host's CPU, memory, load, pressure stall, disks, filesystems,
 * network, processes and uptime, read from procfs and sysfs without running any command.
 *
 * Every round reads each enabled kernel file once. A file that cannot be read or parsed is a
 * failed *source*: its metrics are missing from that round, every other source is still written,
 * the status goes `degraded` with SEXTANT_ERR_PARSE_FAILED naming the file, and
 * `parse_errors_total{source}` counts it (see SourceHealth). Rates and utilisation need two rounds:
 * the first round writes gauges only.
 */
import { join } from 'node:path';
import {
  ErrorCode,
  SextantError,
  createCollectorFactory,
  type Collector,
  type CollectorContext,
} from '@sextant/plugin-api';
import { hostCollectorConfigSchema, hostCollectorDefaults, type HostCollectorConfig } from './config.js';
import { unsignedLongModulus } from './counter-width.js';
import { CpuRecorder } from './cpu-recorder.js';
import { DiskRecorder } from './disk-recorder.js';
import { createDiskstatsTable, parseDiskstats } from './diskstats.js';
import { FilesystemRecorder } from './filesystem-recorder.js';
import { HostSeries } from './host-series.js';
import { malformedFileError, readKernelFile } from './kernel-file.js';
import { LoadRecorder, UptimeRecorder } from './load-recorder.js';
import { parseLoadavg, parseUptime } from './loadavg.js';
import { parseMeminfo } from './meminfo.js';
import { MemoryRecorder } from './memory-recorder.js';
import { parseMounts, type MountEntry } from './mounts.js';
import { NameFilter } from './name-filter.js';
import { createNetDevTable, parseNetDev } from './net-dev.js';
import { NetworkRecorder } from './network-recorder.js';
import { PRESSURE_RESOURCES, PressureRecorder } from './pressure-recorder.js';
import { parsePressure } from './pressure.js';
import { ProcessRecorder } from './process-recorder.js';
import { createProcStat, parseProcStat } from './proc-stat.js';
import { SourceHealth } from './source-health.js';

/** errno values meaning "this kernel has no pressure stall information": not a failure. */
const PRESSURE_UNSUPPORTED = new Set(['ENOENT', 'EOPNOTSUPP', 'ENOTSUP']);

export class HostCollector implements Collector {
  private readonly config: HostCollectorConfig;
  private readonly series: HostSeries;
  private readonly health: SourceHealth;
  private readonly stat = createProcStat();
  private readonly diskstats = createDiskstatsTable();
  private readonly netDev = createNetDevTable();
  private readonly longModulus: number;
  private cpu: CpuRecorder | undefined;
  private processes: ProcessRecorder | undefined;
  private memory: MemoryRecorder | undefined;
  private load: LoadRecorder | undefined;
  private uptime: UptimeRecorder | undefined;
  private pressure: PressureRecorder | undefined;
  private disks: DiskRecorder | undefined;
  private networks: NetworkRecorder | undefined;
  private filesystems: FilesystemRecorder | undefined;
  private readonly pressureUnavailable = new Set<string>();
  private mountsText: string | undefined;
  private mountEntries: readonly MountEntry[] = [];
  private stopped = false;

  constructor(private readonly ctx: CollectorContext<HostCollectorConfig>) {
    this.config = ctx.config;
    this.series = new HostSeries(ctx.sink, ctx.hostResource, ctx.metrics.counter('series_refused_total', 'Series the runtime refused (series limit reached)'));
    this.health = new SourceHealth(ctx.status, ctx.logger, ctx.metrics.counter('parse_errors_total', 'Kernel files that could not be read or parsed, by source'));
    this.longModulus = unsignedLongModulus(this.config.counterBits);
  }

  start(): void {
    this.ctx.logger.info('host collector started', { procRoot: this.config.procRoot, sysRoot: this.config.sysRoot, hostRoot: this.config.hostRoot });
  }

  async collect(signal: AbortSignal): Promise<void> {
    if (this.stopped) return;
    const c = this.config;
    this.series.now = this.ctx.clock.now();
    this.health.beginRound();

    if (c.cpu.enabled || c.processes.enabled) {
      this.readSource('stat', (text) => {
        const result = parseProcStat(text, this.stat);
        if (!result.ok) return result.reason;
        if (c.cpu.enabled) (this.cpu ??= new CpuRecorder(this.series, c.perCpu)).record(this.stat);
        if (c.processes.enabled) (this.processes ??= new ProcessRecorder(this.series, this.longModulus)).record(this.stat);
        return undefined;
      });
    }
    if (c.memory.enabled) {
      this.readSource('meminfo', (text) => {
        const result = parseMeminfo(text);
        if (!result.ok) return result.reason;
        (this.memory ??= new MemoryRecorder(this.series)).record(result.value);
        return undefined;
      });
    }
    if (c.load.enabled) {
      this.readSource('loadavg', (text) => {
        const result = parseLoadavg(text);
        if (!result.ok) return result.reason;
        (this.load ??= new LoadRecorder(this.series)).record(result.value);
        return undefined;
      });
    }
    if (c.uptime.enabled) {
      this.readSource('uptime', (text) => {
        const result = parseUptime(text);
        if (!result.ok) return result.reason;
        (this.uptime ??= new UptimeRecorder(this.series)).record(result.value);
        return undefined;
      });
    }
    if (c.pressure.enabled) {
      for (const resource of PRESSURE_RESOURCES) {
        this.readSource(`pressure/${resource}`, (text) => {
          const result = parsePressure(text);
          if (!result.ok) return result.reason;
          (this.pressure ??= new PressureRecorder(this.series)).record(resource, result.value);
          return undefined;
        });
      }
    }
    if (c.disks.enabled) {
      this.readSource('diskstats', (text) => {
        const result = parseDiskstats(text, this.diskstats);
        if (!result.ok) return result.reason;
        this.disks ??= new DiskRecorder(this.series, {
          sysRoot: c.sysRoot,
          filter: new NameFilter(c.disks.include, c.disks.exclude),
          partitions: c.disks.partitions,
          unsignedLongModulus: this.longModulus,
        });
        this.disks.record(this.diskstats);
        return undefined;
      });
    }
    if (c.networks.enabled) {
      this.readSource('net/dev', (text) => {
        const result = parseNetDev(text, this.netDev);
        if (!result.ok) return result.reason;
        (this.networks ??= new NetworkRecorder(this.series, new NameFilter(c.networks.include, c.networks.exclude))).record(this.netDev);
        return undefined;
      });
    }
    if (c.filesystems.enabled) {
      let mounts: readonly MountEntry[] | undefined;
      this.readSource('mounts', (text) => {
        // The mount table rarely changes: parse it again only when its text does.
        if (text !== this.mountsText) {
          const result = parseMounts(text);
          if (!result.ok) return result.reason;
          this.mountsText = text;
          this.mountEntries = result.value;
        }
        mounts = this.mountEntries;
        return undefined;
      });
      if (mounts) {
        this.filesystems ??= new FilesystemRecorder(this.series, {
          hostRoot: c.hostRoot,
          typeFilter: new NameFilter([], c.filesystems.exclude),
          mountpointFilter: new NameFilter(c.filesystems.includeMountpoints, c.filesystems.excludeMountpoints),
          timeoutMs: c.filesystems.timeout,
          logger: this.ctx.logger,
          statfsErrors: this.ctx.metrics.counter('statfs_errors_total', 'statfs() calls on mountpoints that failed'),
          statfsTimeouts: this.ctx.metrics.counter('statfs_timeouts_total', 'Mountpoints skipped because statfs() did not answer in time'),
        });
        try {
          await this.filesystems.record(mounts, signal);
        } catch (error) {
          this.failInternal('mounts', error);
        }
      }
    }
    this.health.endRound();
  }

  /**
   * Reads `<procRoot>/<source>` and hands its text to `handle`, which returns a parse failure
   * reason or undefined. Never throws: every problem becomes a failure of this source only.
   */
  private readSource(source: string, handle: (text: string) => string | undefined): void {
    const path = join(this.config.procRoot, source);
    const read = readKernelFile(path);
    if (!read.ok) {
      if (source.startsWith('pressure/') && PRESSURE_UNSUPPORTED.has(read.errno)) {
        if (!this.pressureUnavailable.has(source)) {
          this.pressureUnavailable.add(source);
          this.ctx.logger.info(`${path} is not available (${read.errno}): Linux < 4.20 or booted with psi=0; its pressure metrics are skipped`);
        }
        return;
      }
      this.health.fail(source, read.error);
      return;
    }
    try {
      const reason = handle(read.text);
      if (reason !== undefined) this.health.fail(source, malformedFileError(path, reason));
    } catch (error) {
      this.failInternal(source, error);
    }
  }

  private failInternal(source: string, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.health.fail(
      source,
      new SextantError(ErrorCode.INTERNAL, `host collector failed on ${source}: ${reason}`, { hint: 'please report this with the content of the file', cause: error }),
    );
  }

  shutdown(): void {
    this.stopped = true;
  }
}

export const hostCollectorFactory = createCollectorFactory<HostCollectorConfig>({
  type: 'host',
  stability: 'beta',
  description: "This host's CPU, memory, load, pressure stall, disks, filesystems, network, processes and uptime, from /proc and /sys.",
  configSchema: hostCollectorConfigSchema,
  defaults: hostCollectorDefaults,
  create: (ctx) => new HostCollector(ctx),
});
