/**
 * The one table of metrics this collector emits, keyed by the `$SYS/broker/...` topic each comes
 * from (Mosquitto's names; other brokers that publish the same topics work too). The README's
 * table is rendered from it ({@link renderMetricsTable}). Cumulative topics are emitted as
 * per-second rates over the last interval (`CounterRate`), so a broker restart yields a gap,
 * never a negative or inflated rate.
 */
import type { MetricKind, MetricType } from '@sextant/plugin-api';

export interface MqttMetricSpec {
  readonly name: string;
  readonly unit: string;
  readonly type: MetricType;
  readonly kind?: MetricKind;
  readonly description: string;
  /** `gauge`: the topic's value; `counter`: a cumulative topic emitted as a rate. */
  readonly read: 'gauge' | 'counter';
  /** Topics below `$SYS/broker/`, each with the fixed attributes it gets. */
  readonly topics: readonly (readonly [topic: string, attributes: Readonly<Record<string, string>>])[];
  readonly attributes?: readonly string[];
}

function spec<const T extends Record<string, MqttMetricSpec>>(table: T): T {
  return table;
}

const one = (topic: string) => [[topic, {}]] as const;
const both = (prefix: string) => [[`${prefix}/received`, { direction: 'received' }], [`${prefix}/sent`, { direction: 'sent' }]] as const;

export const MQTT_METRICS = spec({
  uptime: { name: 'mqtt.broker.uptime', unit: 's', type: 'gauge', read: 'gauge', topics: one('uptime'), description: 'Seconds since the broker started.' },
  clientsConnected: { name: 'mqtt.broker.clients.connected', unit: '{client}', type: 'gauge', kind: 'saturation', read: 'gauge', topics: one('clients/connected'), description: 'Clients connected now (the collector included).' },
  clientsDisconnected: { name: 'mqtt.broker.clients.disconnected', unit: '{client}', type: 'gauge', read: 'gauge', topics: one('clients/disconnected'), description: 'Persistent sessions whose client is not connected (their messages queue up).' },
  clientsMaximum: { name: 'mqtt.broker.clients.maximum', unit: '{client}', type: 'gauge', read: 'gauge', topics: one('clients/maximum'), description: 'Most clients connected at once since start.' },
  clientsExpired: { name: 'mqtt.broker.clients.expired', unit: '{client}/s', type: 'rate', read: 'counter', topics: one('clients/expired'), description: 'Persistent sessions expired per second (persistent_client_expiration).' },
  messages: { name: 'mqtt.broker.messages', unit: '{message}/s', type: 'rate', kind: 'throughput', read: 'counter', attributes: ['direction'], topics: both('messages'), description: 'MQTT packets of any type received and sent per second.' },
  publishes: { name: 'mqtt.broker.publish.messages', unit: '{message}/s', type: 'rate', kind: 'throughput', read: 'counter', attributes: ['direction'], topics: both('publish/messages'), description: 'PUBLISH messages received from and sent to clients per second ($SYS included).' },
  publishDropped: { name: 'mqtt.broker.publish.dropped', unit: '{message}/s', type: 'rate', read: 'counter', topics: one('publish/messages/dropped'), description: 'Publishes dropped per second because a client\'s queue or in-flight limit was full (max_queued_messages): subscribers losing data.' },
  publishBytes: { name: 'mqtt.broker.publish.bytes', unit: 'By/s', type: 'rate', kind: 'throughput', read: 'counter', attributes: ['direction'], topics: both('publish/bytes'), description: 'PUBLISH payload bytes received and sent per second.' },
  bytes: { name: 'mqtt.broker.bytes', unit: 'By/s', type: 'rate', kind: 'throughput', read: 'counter', attributes: ['direction'], topics: both('bytes'), description: 'Bytes received and sent per second, all packets.' },
  stored: { name: 'mqtt.broker.messages.stored', unit: '{message}', type: 'gauge', kind: 'saturation', read: 'gauge', topics: one('store/messages/count'), description: 'Messages held by the broker: retained ones and QoS 1/2 messages queued for clients.' },
  storedBytes: { name: 'mqtt.broker.messages.stored.bytes', unit: 'By', type: 'gauge', kind: 'memory', read: 'gauge', topics: one('store/messages/bytes'), description: 'Payload bytes of the stored messages.' },
  retained: { name: 'mqtt.broker.messages.retained', unit: '{message}', type: 'gauge', read: 'gauge', topics: one('retained messages/count'), description: 'Retained messages.' },
  subscriptions: { name: 'mqtt.broker.subscriptions', unit: '{subscription}', type: 'gauge', read: 'gauge', topics: one('subscriptions/count'), description: 'Subscriptions active now.' },
  heap: { name: 'mqtt.broker.heap.usage', unit: 'By', type: 'gauge', kind: 'memory', read: 'gauge', topics: one('heap/current'), description: 'Heap memory used by the broker (when built with memory tracking).' },
});

export type MqttMetricId = keyof typeof MQTT_METRICS;

/** Every topic read, below `$SYS/broker/`, with its spec and attributes. */
export const TOPICS: ReadonlyMap<string, { spec: MqttMetricSpec; attributes: Readonly<Record<string, string>> }> = new Map(
  (Object.values(MQTT_METRICS) as MqttMetricSpec[]).flatMap((spec) => spec.topics.map(([topic, attributes]) => [topic, { spec, attributes }] as const)),
);

export function renderMetricsTable(): string {
  const rows = ['| metric | unit | type | attributes | `$SYS/broker/` topic | description |', '|---|---|---|---|---|---|'];
  for (const s of Object.values(MQTT_METRICS) as MqttMetricSpec[]) {
    const attributes = s.attributes?.map((a) => `\`${a}\``).join(', ') ?? '';
    rows.push(`| \`${s.name}\` | \`${s.unit}\` | ${s.type} | ${attributes} | ${s.topics.map(([t]) => `\`${t}\``).join(', ')} | ${s.description} |`);
  }
  return rows.join('\n');
}
