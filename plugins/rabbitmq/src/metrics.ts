/**
 * The one table of metrics this collector emits (README table rendered from it by
 * {@link renderMetricsTable}). Names follow the OpenTelemetry Collector `rabbitmq` receiver where
 * it has one (`rabbitmq.message.current`, `rabbitmq.consumer.count`, `rabbitmq.message.published`,
 * `rabbitmq.node.disk_free`, ...). Message counters are emitted as per-second rates over the last
 * interval (`CounterRate`), so a restart yields a gap, never a negative or inflated rate.
 */
import type { MetricKind, MetricType } from '@sextant/plugin-api';

export interface RabbitmqMetricSpec {
  readonly name: string;
  readonly unit: string;
  readonly type: MetricType;
  readonly kind?: MetricKind;
  readonly description: string;
  readonly source: string;
  readonly attributes?: readonly string[];
}

function spec<const T extends Record<string, RabbitmqMetricSpec>>(table: T): T {
  return table;
}

const Q = ['rabbitmq.vhost.name', 'rabbitmq.queue.name'] as const;
const N = ['rabbitmq.node.name'] as const;

export const RABBITMQ_METRICS = spec({
  connections: { name: 'rabbitmq.connections', unit: '{connection}', type: 'gauge', kind: 'saturation', source: '/api/overview object_totals.connections', description: 'Client connections.' },
  channels: { name: 'rabbitmq.channels', unit: '{channel}', type: 'gauge', source: '/api/overview object_totals.channels', description: 'Channels.' },
  queues: { name: 'rabbitmq.queues', unit: '{queue}', type: 'gauge', source: '/api/overview object_totals.queues', description: 'Queues.' },
  consumersTotal: { name: 'rabbitmq.consumers', unit: '{consumer}', type: 'gauge', source: '/api/overview object_totals.consumers', description: 'Consumers of all queues.' },
  messagesTotal: { name: 'rabbitmq.messages.current', unit: '{message}', type: 'gauge', kind: 'saturation', source: '/api/overview queue_totals.messages_ready / messages_unacknowledged', attributes: ['state'], description: 'Messages in all queues, ready for delivery or delivered but not acknowledged.' },
  published: { name: 'rabbitmq.messages.published', unit: '{message}/s', type: 'rate', kind: 'throughput', source: '/api/overview message_stats.publish', description: 'Messages published per second.' },
  delivered: { name: 'rabbitmq.messages.delivered', unit: '{message}/s', type: 'rate', kind: 'throughput', source: '/api/overview message_stats.deliver_get', description: 'Messages delivered to consumers (or fetched) per second.' },
  acknowledged: { name: 'rabbitmq.messages.acknowledged', unit: '{message}/s', type: 'rate', kind: 'throughput', source: '/api/overview message_stats.ack', description: 'Messages acknowledged per second.' },
  redelivered: { name: 'rabbitmq.messages.redelivered', unit: '{message}/s', type: 'rate', source: '/api/overview message_stats.redeliver', description: 'Messages delivered again per second (a consumer died or rejected them).' },
  unroutable: { name: 'rabbitmq.messages.unroutable', unit: '{message}/s', type: 'rate', source: '/api/overview message_stats.drop_unroutable + return_unroutable', description: 'Published messages per second that matched no queue (dropped or returned).' },
  queueMessages: { name: 'rabbitmq.message.current', unit: '{message}', type: 'gauge', kind: 'saturation', source: '/api/queues messages_ready / messages_unacknowledged', attributes: [...Q, 'state'], description: 'Messages in the queue: ready (the backlog consumers have not taken) or unacknowledged.' },
  queueConsumers: { name: 'rabbitmq.consumer.count', unit: '{consumer}', type: 'gauge', source: '/api/queues consumers', attributes: Q, description: 'Consumers of the queue; 0 with a growing backlog means nobody is working it.' },
  queuePublished: { name: 'rabbitmq.message.published', unit: '{message}/s', type: 'rate', kind: 'throughput', source: '/api/queues message_stats.publish', attributes: Q, description: 'Messages published into the queue per second.' },
  queueDelivered: { name: 'rabbitmq.message.delivered', unit: '{message}/s', type: 'rate', kind: 'throughput', source: '/api/queues message_stats.deliver_get', attributes: Q, description: 'Messages delivered from the queue per second.' },
  queueAcknowledged: { name: 'rabbitmq.message.acknowledged', unit: '{message}/s', type: 'rate', kind: 'throughput', source: '/api/queues message_stats.ack', attributes: Q, description: 'Messages acknowledged from the queue per second.' },
  nodeRunning: { name: 'rabbitmq.node.running', unit: '1', type: 'gauge', kind: 'availability', source: '/api/nodes running', attributes: N, description: '1 when the cluster node runs, 0 when it is down.' },
  memUsed: { name: 'rabbitmq.node.mem_used', unit: 'By', type: 'gauge', kind: 'memory', source: '/api/nodes mem_used', attributes: N, description: 'Memory used by the node.' },
  memLimit: { name: 'rabbitmq.node.mem_limit', unit: 'By', type: 'gauge', source: '/api/nodes mem_limit', attributes: N, description: 'Memory high watermark: above it publishers are blocked.' },
  memAlarm: { name: 'rabbitmq.node.mem_alarm', unit: '1', type: 'gauge', kind: 'availability', source: '/api/nodes mem_alarm', attributes: N, description: '1 while the memory alarm blocks publishers.' },
  diskFree: { name: 'rabbitmq.node.disk_free', unit: 'By', type: 'gauge', source: '/api/nodes disk_free', attributes: N, description: 'Free disk space where the node stores messages.' },
  diskFreeLimit: { name: 'rabbitmq.node.disk_free_limit', unit: 'By', type: 'gauge', source: '/api/nodes disk_free_limit', attributes: N, description: 'Free disk space below which publishers are blocked.' },
  diskAlarm: { name: 'rabbitmq.node.disk_free_alarm', unit: '1', type: 'gauge', kind: 'availability', source: '/api/nodes disk_free_alarm', attributes: N, description: '1 while the disk alarm blocks publishers.' },
  fdUsed: { name: 'rabbitmq.node.fd_used', unit: '{file}', type: 'gauge', kind: 'saturation', source: '/api/nodes fd_used', attributes: N, description: 'File descriptors in use.' },
  fdTotal: { name: 'rabbitmq.node.fd_total', unit: '{file}', type: 'gauge', source: '/api/nodes fd_total', attributes: N, description: 'File descriptors available.' },
  socketsUsed: { name: 'rabbitmq.node.sockets_used', unit: '{socket}', type: 'gauge', kind: 'saturation', source: '/api/nodes sockets_used', attributes: N, description: 'Sockets in use (absent on RabbitMQ 3.12+).' },
  procUsed: { name: 'rabbitmq.node.proc_used', unit: '{process}', type: 'gauge', source: '/api/nodes proc_used', attributes: N, description: 'Erlang processes in use.' },
  procTotal: { name: 'rabbitmq.node.proc_total', unit: '{process}', type: 'gauge', source: '/api/nodes proc_total', attributes: N, description: 'Erlang process limit.' },
});

export function renderMetricsTable(): string {
  const rows = ['| metric | unit | type | attributes | from | description |', '|---|---|---|---|---|---|'];
  for (const s of Object.values(RABBITMQ_METRICS) as RabbitmqMetricSpec[]) {
    const attributes = s.attributes?.map((a) => `\`${a}\``).join(', ') ?? '';
    rows.push(`| \`${s.name}\` | \`${s.unit}\` | ${s.type} | ${attributes} | ${s.source} | ${s.description} |`);
  }
  return rows.join('\n');
}
