/**
 * The one table of metrics this collector emits. The collector declares every series from it and
 * the README's table is rendered from it ({@link renderMetricsTable}; a test fails when the README
 * drifts). Counters are emitted as per-second rates over the last interval (`CounterRate`), so a
 * restart yields a gap, never a negative or inflated rate.
 */
import type { MetricKind, MetricType } from '@sextant/plugin-api';

export interface NatsMetricSpec {
  readonly name: string;
  readonly unit: string;
  readonly type: MetricType;
  readonly kind?: MetricKind;
  readonly description: string;
  /** Endpoint and field the value comes from, for the docs. */
  readonly source: string;
  readonly attributes?: readonly string[];
}

function spec<const T extends Record<string, NatsMetricSpec>>(table: T): T {
  return table;
}

export const NATS_METRICS = spec({
  uptime: { name: 'nats.uptime', unit: 's', type: 'gauge', source: '/varz now - start', description: 'Seconds since the server started.' },
  connections: { name: 'nats.connections', unit: '{connection}', type: 'gauge', kind: 'saturation', source: '/varz connections', description: 'Client connections open now.' },
  connectionsMax: { name: 'nats.connections.max', unit: '{connection}', type: 'gauge', source: '/varz max_connections', description: 'Configured connection limit.' },
  connectionsUtilization: { name: 'nats.connections.utilization', unit: '1', type: 'gauge', kind: 'utilization', source: 'connections / max_connections', description: 'Share of the connection limit in use.' },
  connectionsTotal: { name: 'nats.connections.total', unit: '{connection}/s', type: 'rate', kind: 'throughput', source: '/varz total_connections', description: 'Client connections accepted per second.' },
  messages: { name: 'nats.messages', unit: '{message}/s', type: 'rate', kind: 'throughput', source: '/varz in_msgs, out_msgs', attributes: ['direction'], description: 'Messages per second received from (in) and delivered to (out) clients, routes and leaf nodes.' },
  bytes: { name: 'nats.bytes', unit: 'By/s', type: 'rate', kind: 'throughput', source: '/varz in_bytes, out_bytes', attributes: ['direction'], description: 'Payload bytes per second received (in) and delivered (out).' },
  slowConsumers: { name: 'nats.slow_consumers', unit: '{consumer}/s', type: 'rate', source: '/varz slow_consumers', description: 'Clients per second disconnected (or flagged) because they could not keep up.' },
  subscriptions: { name: 'nats.subscriptions', unit: '{subscription}', type: 'gauge', source: '/varz subscriptions', description: 'Subscriptions active now.' },
  pendingMax: { name: 'nats.connections.pending.max', unit: 'By', type: 'gauge', kind: 'saturation', source: '/connz?sort=pending&limit=1 pending_bytes', description: 'Bytes waiting to be written to the most backed-up client: a slow consumer in the making (max_pending closes it).' },
  memory: { name: 'nats.memory', unit: 'By', type: 'gauge', kind: 'memory', source: '/varz mem', description: 'Resident memory of the server process.' },
  cpu: { name: 'nats.cpu.utilization', unit: '1', type: 'gauge', kind: 'utilization', source: '/varz cpu / 100', description: 'CPU used by the server as a share of one core (can exceed 1 on several cores).' },
  routes: { name: 'nats.routes', unit: '{route}', type: 'gauge', source: '/varz routes', description: 'Cluster routes connected.' },
  leafnodes: { name: 'nats.leafnodes', unit: '{connection}', type: 'gauge', source: '/varz leafnodes', description: 'Leaf node connections.' },
  jsMemory: { name: 'nats.jetstream.memory.usage', unit: 'By', type: 'gauge', kind: 'memory', source: '/jsz memory', description: 'Memory used by JetStream memory streams.' },
  jsMemoryLimit: { name: 'nats.jetstream.memory.limit', unit: 'By', type: 'gauge', source: '/jsz config.max_memory', description: 'JetStream memory limit.' },
  jsStorage: { name: 'nats.jetstream.storage.usage', unit: 'By', type: 'gauge', kind: 'memory', source: '/jsz storage', description: 'Disk used by JetStream file streams.' },
  jsStorageLimit: { name: 'nats.jetstream.storage.limit', unit: 'By', type: 'gauge', source: '/jsz config.max_storage', description: 'JetStream storage limit.' },
  jsApiErrors: { name: 'nats.jetstream.api.errors', unit: '{request}/s', type: 'rate', source: '/jsz api.errors', description: 'JetStream API requests per second that failed.' },
  streamMessages: { name: 'nats.jetstream.stream.messages', unit: '{message}', type: 'gauge', kind: 'saturation', source: '/jsz stream_detail[].state.messages', attributes: ['nats.stream'], description: 'Messages stored in the stream (its depth).' },
  streamBytes: { name: 'nats.jetstream.stream.bytes', unit: 'By', type: 'gauge', kind: 'memory', source: '/jsz stream_detail[].state.bytes', attributes: ['nats.stream'], description: 'Bytes stored in the stream.' },
  streamConsumers: { name: 'nats.jetstream.stream.consumers', unit: '{consumer}', type: 'gauge', source: '/jsz stream_detail[].state.consumer_count', attributes: ['nats.stream'], description: 'Consumers of the stream.' },
  consumerPending: { name: 'nats.jetstream.consumer.pending', unit: '{message}', type: 'gauge', kind: 'saturation', source: '/jsz consumer_detail[].num_pending', attributes: ['nats.stream', 'nats.consumer'], description: 'Messages in the stream the consumer has not been sent yet: its lag.' },
  consumerAckPending: { name: 'nats.jetstream.consumer.ack_pending', unit: '{message}', type: 'gauge', kind: 'saturation', source: '/jsz consumer_detail[].num_ack_pending', attributes: ['nats.stream', 'nats.consumer'], description: 'Messages delivered but not acknowledged yet.' },
  consumerRedelivered: { name: 'nats.jetstream.consumer.redelivered', unit: '{message}', type: 'gauge', source: '/jsz consumer_detail[].num_redelivered', attributes: ['nats.stream', 'nats.consumer'], description: 'Messages delivered more than once (not acknowledged in time).' },
  consumerWaiting: { name: 'nats.jetstream.consumer.waiting', unit: '{request}', type: 'gauge', source: '/jsz consumer_detail[].num_waiting', attributes: ['nats.stream', 'nats.consumer'], description: 'Pull requests waiting for messages.' },
});

export type NatsMetricId = keyof typeof NATS_METRICS;

export function renderMetricsTable(): string {
  const rows = ['| metric | unit | type | attributes | from | description |', '|---|---|---|---|---|---|'];
  for (const s of Object.values(NATS_METRICS) as NatsMetricSpec[]) {
    const attributes = s.attributes?.map((a) => `\`${a}\``).join(', ') ?? '';
    rows.push(`| \`${s.name}\` | \`${s.unit}\` | ${s.type} | ${attributes} | ${s.source} | ${s.description} |`);
  }
  return rows.join('\n');
}
