/**
 * Benchmark of the redis collector, wired into tools/bench by the integrator.
 *
 * `run()` returns machine-readable figures:
 * - `redisInfoParsesPerSec`: INFO replies (a realistic ~6 KiB `INFO all`) parsed per second.
 * - `redisInfoParseNsPerByte1x` / `redisInfoParseNsPerByte100x`: cost per byte of a normal reply and
 *   of one 100 times larger; about equal when parsing is linear.
 * - `redisProcessRoundCpuMs`: CPU of parsing one reply and writing every metric (no I/O).
 * - `redisRoundCpuMs`: CPU of one full collect() round (INFO all, SLOWLOG LEN/GET, LATENCY LATEST,
 *   node-redis encode/decode) against a private redis-server, when `redis-server` is installed
 *   (-1 when it is not).
 * - `redisCorePercentAt10s`: that round's CPU as a percentage of one core at a 10 s interval
 *   (the goal is <= 0.2). Falls back to `redisProcessRoundCpuMs` without a redis-server.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CollectorContext, SeriesDescriptor, TelemetrySink } from '@sextant/plugin-api';
import type { RedisConfig } from '../src/config.js';
import { RedisInfoParser } from '../src/info-parser.js';
import { RedisCollector } from '../src/redis-collector.js';

/** A realistic `INFO all` reply of redis 7.0 (values vary, shape and size match). */
export function sampleInfoText(): string {
  const lines: string[] = [];
  const section = (title: string, entries: Record<string, string | number>) => {
    lines.push(`# ${title}`);
    for (const [k, v] of Object.entries(entries)) lines.push(`${k}:${v}`);
    lines.push('');
  };
  section('Server', { redis_version: '7.0.15', redis_git_sha1: '00000000', redis_mode: 'standalone', os: 'Linux 6.1.0 x86_64', arch_bits: 64, multiplexing_api: 'epoll', gcc_version: '12.2.0', process_id: 1234, run_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', tcp_port: 6379, server_time_usec: 1767225600123456, uptime_in_seconds: 86400, uptime_in_days: 1, hz: 10, configured_hz: 10, lru_clock: 123456, executable: '/usr/bin/redis-server', config_file: '/etc/redis/redis.conf', io_threads_active: 0 });
  section('Clients', { connected_clients: 42, cluster_connections: 0, maxclients: 10000, client_recent_max_input_buffer: 20480, client_recent_max_output_buffer: 0, blocked_clients: 1, tracking_clients: 0, clients_in_timeout_table: 1 });
  section('Memory', { used_memory: 104857600, used_memory_human: '100.00M', used_memory_rss: 125829120, used_memory_rss_human: '120.00M', used_memory_peak: 115343360, used_memory_peak_human: '110.00M', used_memory_peak_perc: '90.91%', used_memory_overhead: 2000000, used_memory_startup: 862000, used_memory_dataset: 102857600, used_memory_dataset_perc: '98.91%', allocator_allocated: 105000000, allocator_active: 110000000, allocator_resident: 120000000, total_system_memory: 8589934592, total_system_memory_human: '8.00G', used_memory_lua: 31744, used_memory_scripts: 0, maxmemory: 536870912, maxmemory_human: '512.00M', maxmemory_policy: 'allkeys-lru', allocator_frag_ratio: '1.05', allocator_frag_bytes: 5000000, allocator_rss_ratio: '1.09', rss_overhead_ratio: '1.05', mem_fragmentation_ratio: '1.20', mem_fragmentation_bytes: 20971520, mem_allocator: 'jemalloc-5.3.0', active_defrag_running: 0, lazyfree_pending_objects: 0 });
  section('Persistence', { loading: 0, async_loading: 0, current_cow_peak: 0, rdb_changes_since_last_save: 1234, rdb_bgsave_in_progress: 0, rdb_last_save_time: 1767225000, rdb_last_bgsave_status: 'ok', rdb_last_bgsave_time_sec: 1, rdb_current_bgsave_time_sec: -1, aof_enabled: 0, aof_rewrite_in_progress: 0, aof_last_bgrewrite_status: 'ok', aof_last_write_status: 'ok', module_fork_in_progress: 0 });
  section('Stats', { total_connections_received: 5000, total_commands_processed: 12345678, instantaneous_ops_per_sec: 1500, total_net_input_bytes: 987654321, total_net_output_bytes: 1987654321, instantaneous_input_kbps: '120.5', instantaneous_output_kbps: '240.1', rejected_connections: 0, sync_full: 1, sync_partial_ok: 0, expired_keys: 4000, evicted_keys: 10, keyspace_hits: 9000000, keyspace_misses: 1000000, pubsub_channels: 0, latest_fork_usec: 350, total_forks: 3, migrate_cached_sockets: 0, total_error_replies: 12, total_reads_processed: 12000000, total_writes_processed: 11000000 });
  section('Replication', { role: 'master', connected_slaves: 2, slave0: 'ip=10.0.0.2,port=6379,state=online,offset=123456789,lag=0', slave1: 'ip=10.0.0.3,port=6379,state=online,offset=123456700,lag=1', master_failover_state: 'no-failover', master_replid: 'f'.repeat(40), master_replid2: '0'.repeat(40), master_repl_offset: 123456789, second_repl_offset: -1, repl_backlog_active: 1, repl_backlog_size: 1048576, repl_backlog_first_byte_offset: 122408214, repl_backlog_histlen: 1048576 });
  section('CPU', { used_cpu_sys: '1234.567890', used_cpu_user: '2345.678901', used_cpu_sys_children: '1.000000', used_cpu_user_children: '2.000000', used_cpu_sys_main_thread: '1200.000000', used_cpu_user_main_thread: '2300.000000' });
  section('Modules', {});
  const commands = ['get', 'set', 'del', 'expire', 'incr', 'hget', 'hset', 'hgetall', 'lpush', 'rpop', 'blpop', 'sadd', 'smembers', 'zadd', 'zrange', 'mget', 'mset', 'ping', 'info', 'slowlog|get', 'slowlog|len', 'latency|latest', 'client|setname', 'select', 'exists', 'ttl', 'scan', 'eval', 'publish', 'xadd'];
  const stats: Record<string, string> = {};
  for (const [i, c] of commands.entries()) stats[`cmdstat_${c}`] = `calls=${1000 * (i + 1)},usec=${5000 * (i + 1)},usec_per_call=5.00,rejected_calls=0,failed_calls=0`;
  section('Commandstats', stats);
  section('Errorstats', { errorstat_ERR: 'count=10', errorstat_WRONGTYPE: 'count=2' });
  const latency: Record<string, string> = {};
  for (const c of commands) latency[`latency_percentiles_usec_${c}`] = 'p50=1.003,p99=10.015,p99.9=50.175';
  section('Latencystats', latency);
  section('Cluster', { cluster_enabled: 0 });
  section('Keyspace', { db0: 'keys=1000000,expires=250000,avg_ttl=3600000', db1: 'keys=100,expires=0,avg_ttl=0', db3: 'keys=7,expires=3,avg_ttl=1000' });
  return lines.join('\r\n');
}

class CountingSink implements TelemetrySink {
  private readonly ids = new Map<string, number>();
  samples = 0;
  series(d: SeriesDescriptor): number {
    const key = `${d.metric}\u0000${JSON.stringify(d.attributes)}`;
    let id = this.ids.get(key);
    if (id === undefined) this.ids.set(key, (id = this.ids.size));
    return id;
  }
  sample(): void {
    this.samples++;
  }
  event(): void {}
  topology(): void {}
  flush(): void {}
}

function benchContext(config: RedisConfig, sink: TelemetrySink, clock: { t: number }): CollectorContext<RedisConfig> {
  const noop = () => {};
  return {
    config,
    instanceId: 'redis/bench',
    logger: { debug: noop, info: noop, warn: noop, error: noop },
    clock: { now: () => clock.t, setTimeout: (fn, ms) => { const t = setTimeout(fn, ms); return () => clearTimeout(t); } },
    status: { set: noop },
    metrics: { counter: () => ({ add: noop }), gauge: () => ({ set: noop }) },
    signal: new AbortController().signal,
    dataDir: undefined,
    sink,
    hostResource: { 'host.name': 'bench' },
    intervalMs: 10_000,
  };
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

function parseCostNsPerByte(parser: RedisInfoParser, text: string, minBytes: number): number {
  const rounds = Math.max(3, Math.ceil(minBytes / text.length));
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) parser.parse(text);
  return Number(process.hrtime.bigint() - start) / (rounds * text.length);
}

function findRedisServer(): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/bin']) {
    if (!dir) continue;
    try {
      accessSync(join(dir, 'redis-server'), constants.X_OK);
      return join(dir, 'redis-server');
    } catch {
      // not here
    }
  }
  return undefined;
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitForLoopbackPort(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ port, host: '127.0.0.1' });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on 127.0.0.1:${port}`);
}

/** CPU of full collect() rounds against a private redis-server; undefined without one. */
async function measureFullRound(config: Omit<RedisConfig, 'url'>, rounds: number): Promise<number | undefined> {
  const binary = findRedisServer();
  if (!binary) return undefined;
  const port = await freeLoopbackPort();
  const dir = mkdtempSync(join(tmpdir(), 'sextant-redis-bench-'));
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  const clock = { t: Date.now() };
  const collector = new RedisCollector(benchContext({ ...config, url: `redis://127.0.0.1:${port}` }, new CountingSink(), clock));
  try {
    await waitForLoopbackPort(port);
    collector.start();
    const signal = new AbortController().signal;
    for (let i = 0; i < 20; i++) {
      clock.t += 10_000;
      await collector.collect(signal); // warm-up (JIT, connection)
    }
    const start = process.cpuUsage();
    for (let i = 0; i < rounds; i++) {
      clock.t += 10_000;
      await collector.collect(signal);
    }
    return cpuMs(start) / rounds;
  } finally {
    await collector.shutdown();
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, number>> {
  const text = sampleInfoText();
  const parser = new RedisInfoParser();
  for (let i = 0; i < 5000; i++) parser.parse(text); // warm-up

  const parses = 20_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < parses; i++) parser.parse(text);
  const parseSeconds = Number(process.hrtime.bigint() - start) / 1e9;

  const nsPerByte1x = parseCostNsPerByte(parser, text, 50_000_000);
  const nsPerByte100x = parseCostNsPerByte(parser, text.repeat(100), 50_000_000);

  // parse + write every metric through the collector's own code path, without I/O
  const config: Omit<RedisConfig, 'url'> = { tls: { rejectUnauthorized: true }, timeout: 5000, slowlog: { enabled: true, maxEntries: 128 }, latency: { enabled: true }, resource: {} };
  const clock = { t: Date.now() };
  const sink = new CountingSink();
  const offline = new RedisCollector(benchContext({ ...config, url: 'redis://127.0.0.1:1' }, sink, clock));
  const processRounds = 5000;
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < processRounds; i++) {
    clock.t += 10_000;
    offline.processInfo(parser.parse(text), clock.t);
  }
  const processRoundCpuMs = cpuMs(cpuStart) / processRounds;
  await offline.shutdown();

  const fullRoundCpuMs = await measureFullRound(config, 300);
  const roundCpuMs = fullRoundCpuMs ?? processRoundCpuMs;
  return {
    redisInfoParsesPerSec: Math.round(parses / parseSeconds),
    redisInfoBytes: text.length,
    redisInfoParseNsPerByte1x: Number(nsPerByte1x.toFixed(3)),
    redisInfoParseNsPerByte100x: Number(nsPerByte100x.toFixed(3)),
    redisProcessRoundCpuMs: Number(processRoundCpuMs.toFixed(4)),
    redisSamplesPerRound: Math.round(sink.samples / processRounds),
    redisRoundCpuMs: fullRoundCpuMs === undefined ? -1 : Number(fullRoundCpuMs.toFixed(4)),
    redisCorePercentAt10s: Number(((roundCpuMs / 10_000) * 100).toFixed(5)),
  };
}
