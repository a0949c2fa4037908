/**
 * The one table of metrics this collector emits. The collector declares every series from it and
 * the README's table is rendered from it ({@link renderMetricsTable}; a test fails when the README
 * drifts).
 *
 * Names follow the OpenTelemetry Collector `memcached` receiver where it has one
 * (`memcached.bytes`, `memcached.commands`, `memcached.operations`, `memcached.evictions`, ...).
 * Counters from `stats` are emitted as per-second rates over the last interval (`CounterRate`), so
 * a restart yields a gap, never a negative or inflated rate.
 */
import type { MetricKind, MetricType } from '@sextant/plugin-api';

/** `gauge`: the stat as is; `counter`: a cumulative stat emitted as a per-second rate; `computed`: see `source`. */
export type MemcachedMetricRead = 'gauge' | 'counter' | 'computed';

export interface MemcachedMetricSpec {
  readonly name: string;
  /** UCUM unit. */
  readonly unit: string;
  readonly type: MetricType;
  readonly kind?: MetricKind;
  readonly description: string;
  readonly read: MemcachedMetricRead;
  /** `stats` fields for `gauge`/`counter`, each with the fixed attributes it gets. */
  readonly fields?: readonly (readonly [stat: string, attributes: Readonly<Record<string, string>>])[];
  readonly source?: string;
  readonly attributes?: readonly string[];
}

function spec<const T extends Record<string, MemcachedMetricSpec>>(table: T): T {
  return table;
}

const one = (stat: string) => [[stat, {}]] as const;

export const MEMCACHED_METRICS = spec({
  uptime: { name: 'memcached.uptime', unit: 's', type: 'gauge', read: 'gauge', fields: one('uptime'), description: 'Seconds since the server started.' },
  bytes: { name: 'memcached.bytes', unit: 'By', type: 'gauge', kind: 'memory', read: 'gauge', fields: one('bytes'), description: 'Bytes used to store items.' },
  limit: { name: 'memcached.memory.limit', unit: 'By', type: 'gauge', read: 'gauge', fields: one('limit_maxbytes'), description: 'Memory the server may use for items (-m).' },
  utilization: { name: 'memcached.memory.utilization', unit: '1', type: 'gauge', kind: 'utilization', read: 'computed', source: 'bytes / limit_maxbytes', description: 'Share of the item memory in use; near 1 new items evict old ones.' },
  items: { name: 'memcached.current_items', unit: '{item}', type: 'gauge', read: 'gauge', fields: one('curr_items'), description: 'Items stored now.' },
  connections: { name: 'memcached.connections.current', unit: '{connection}', type: 'gauge', kind: 'saturation', read: 'gauge', fields: one('curr_connections'), description: 'Open connections (the collector\'s own included).' },
  connectionsMax: { name: 'memcached.connections.max', unit: '{connection}', type: 'gauge', read: 'gauge', fields: one('max_connections'), description: 'Connection limit (-c).' },
  connectionUtilization: { name: 'memcached.connections.utilization', unit: '1', type: 'gauge', kind: 'utilization', read: 'computed', source: 'curr_connections / max_connections', description: 'Share of the connection limit in use.' },
  connectionsTotal: { name: 'memcached.connections.total', unit: '{connection}/s', type: 'rate', kind: 'throughput', read: 'counter', fields: one('total_connections'), description: 'Connections accepted per second.' },
  connectionsRejected: { name: 'memcached.connections.rejected', unit: '{connection}/s', type: 'rate', read: 'counter', fields: one('rejected_connections'), description: 'Connections refused per second because max_connections was reached.' },
  listenDisabled: { name: 'memcached.connections.listen_disabled', unit: '{event}/s', type: 'rate', read: 'counter', fields: one('listen_disabled_num'), description: 'Times per second the server stopped accepting connections at the limit.' },
  commands: {
    name: 'memcached.commands', unit: '{command}/s', type: 'rate', kind: 'throughput', read: 'counter', attributes: ['command'],
    fields: [['cmd_get', { command: 'get' }], ['cmd_set', { command: 'set' }], ['cmd_flush', { command: 'flush' }], ['cmd_touch', { command: 'touch' }]],
    description: 'Commands per second by type.',
  },
  operations: {
    name: 'memcached.operations', unit: '{operation}/s', type: 'rate', kind: 'throughput', read: 'counter', attributes: ['operation', 'type'],
    fields: [
      ['get_hits', { operation: 'get', type: 'hit' }], ['get_misses', { operation: 'get', type: 'miss' }],
      ['delete_hits', { operation: 'delete', type: 'hit' }], ['delete_misses', { operation: 'delete', type: 'miss' }],
      ['incr_hits', { operation: 'increment', type: 'hit' }], ['incr_misses', { operation: 'increment', type: 'miss' }],
      ['decr_hits', { operation: 'decrement', type: 'hit' }], ['decr_misses', { operation: 'decrement', type: 'miss' }],
      ['cas_hits', { operation: 'cas', type: 'hit' }], ['cas_misses', { operation: 'cas', type: 'miss' }],
      ['touch_hits', { operation: 'touch', type: 'hit' }], ['touch_misses', { operation: 'touch', type: 'miss' }],
    ],
    description: 'Key lookups per second by operation, found (hit) or not (miss).',
  },
  hitRatio: { name: 'memcached.operation_hit_ratio', unit: '1', type: 'gauge', read: 'computed', source: 'Δget_hits / (Δget_hits + Δget_misses) over the interval', attributes: ['operation'], description: 'Share of gets that found their key during the interval (not since start); no sample when there were no gets.' },
  evictions: { name: 'memcached.evictions', unit: '{item}/s', type: 'rate', read: 'counter', fields: one('evictions'), description: 'Items evicted per second to make room (memory full): the cache is too small.' },
  evictedUnfetched: { name: 'memcached.evictions.unfetched', unit: '{item}/s', type: 'rate', read: 'counter', fields: one('evicted_unfetched'), description: 'Items evicted per second that were never read: wasted sets.' },
  reclaimed: { name: 'memcached.reclaimed', unit: '{item}/s', type: 'rate', read: 'counter', fields: one('reclaimed'), description: 'Expired items whose memory was reused per second.' },
  storeFailures: {
    name: 'memcached.store.failures', unit: '{item}/s', type: 'rate', read: 'counter', attributes: ['reason'],
    fields: [['store_too_large', { reason: 'too_large' }], ['store_no_memory', { reason: 'no_memory' }]],
    description: 'Sets refused per second: item larger than -I, or no memory to store it.',
  },
  network: { name: 'memcached.network', unit: 'By/s', type: 'rate', kind: 'throughput', read: 'counter', attributes: ['direction'], fields: [['bytes_read', { direction: 'received' }], ['bytes_written', { direction: 'sent' }]], description: 'Bytes per second received from and sent to clients.' },
  cpu: { name: 'memcached.cpu.usage', unit: 's/s', type: 'rate', kind: 'utilization', read: 'counter', attributes: ['state'], fields: [['rusage_system', { state: 'system' }], ['rusage_user', { state: 'user' }]], description: 'CPU seconds per second used by the server; 1 = one core.' },
  threads: { name: 'memcached.threads', unit: '{thread}', type: 'gauge', read: 'gauge', fields: one('threads'), description: 'Worker threads.' },
});

export type MemcachedMetricId = keyof typeof MEMCACHED_METRICS;

/** Specs read straight from `stats` fields, in table order. */
export const FIELD_METRICS: readonly MemcachedMetricSpec[] = Object.values(MEMCACHED_METRICS).filter((s: MemcachedMetricSpec) => s.read !== 'computed');

/** The README's metrics table, rendered from {@link MEMCACHED_METRICS}. */
export function renderMetricsTable(): string {
  const rows = ['| metric | unit | type | attributes | from | description |', '|---|---|---|---|---|---|'];
  for (const s of Object.values(MEMCACHED_METRICS) as MemcachedMetricSpec[]) {
    const from = s.read === 'computed' ? s.source : s.fields!.map(([v]) => `\`${v}\``).join(', ');
    const attributes = s.attributes?.map((a) => `\`${a}\``).join(', ') ?? '';
    rows.push(`| \`${s.name}\` | \`${s.unit}\` | ${s.type} | ${attributes} | ${from} | ${s.description} |`);
  }
  return rows.join('\n');
}
