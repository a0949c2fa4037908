/**
 * The `mqtt` collector: one MQTT connection per broker, subscribed to `$SYS/broker/#`. The broker
 * publishes its statistics there every `sys_interval` (Mosquitto: 10 s by default, retained, so a
 * new subscriber gets them at once); the collector keeps the latest value of every topic of
 * {@link MQTT_METRICS} and writes them once per interval.
 *
 * Failure behaviour (never throws after start, never crashes the process):
 * - unreachable broker, refused credentials or client id: status `error` with a coded message and a
 *   hint, `connection_errors_total` counts the round; mqtt.js reconnects in the background.
 * - connected but no $SYS values, or none for three intervals (sys_interval 0, an ACL that hides
 *   $SYS, a broker that does not publish it): `degraded` with the fix; nothing stale is written.
 * - a restart (uptime went back): counter baselines dropped, a `mqtt.restart` event.
 * - values that are not numbers: dropped and counted (`values_rejected_total`).
 */
import { randomBytes } from 'node:crypto';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { z } from 'zod';
import {
  createCollectorFactory,
  ErrorCode,
  formatError,
  isSextantError,
  SextantError,
  type Attributes,
  type Collector,
  type CollectorContext,
  type HealthState,
  type SelfCounter,
} from '@sextant/plugin-api';
import { MetricWriter, StatusChangeReporter } from '@sextant/integration-kit';
import { mqttConfigDefaults, mqttConfigSchema, type MqttConfig } from './config.js';
import { TOPICS } from './metrics.js';

const SYS_PREFIX = '$SYS/broker/';

/** A $SYS value: a decimal number, or `N seconds` (uptime); NaN for anything else. */
export function sysValue(payload: string): number {
  const match = /^\s*(-?\d+(?:\.\d+)?)(?: seconds?)?\s*$/.exec(payload);
  return match ? Number(match[1]) : Number.NaN;
}

interface SelfCounters {
  readonly connectionErrors: SelfCounter;
  readonly valuesRejected: SelfCounter;
  readonly restarts: SelfCounter;
}

export class MqttCollector implements Collector {
  private readonly url: URL;
  private readonly where: string;
  private readonly resource: Attributes;
  private readonly counters: SelfCounters;
  private client: MqttClient | undefined;
  /** Latest raw payload per topic (below `$SYS/broker/`), and when any arrived last. */
  private readonly latest = new Map<string, string>();
  private lastMessageAt = Number.NaN;
  private lastError: unknown;
  private readonly writer: MetricWriter;
  private lastUptime = Number.NaN;
  private readonly status: StatusChangeReporter;
  private stopped = false;

  constructor(private readonly ctx: CollectorContext<MqttConfig>) {
    this.url = new URL(ctx.config.url);
    this.where = this.url.host;
    this.resource = {
      ...ctx.hostResource,
      'service.name': 'mqtt-broker',
      'server.address': this.url.hostname.replace(/^\[(.*)\]$/, '$1'),
      'server.port': Number(this.url.port || (this.url.protocol === 'mqtts:' ? 8883 : 1883)),
      ...ctx.config.resource,
    };
    const m = ctx.metrics;
    this.counters = {
      connectionErrors: m.counter('connection_errors_total', 'Rounds without a connection to the broker'),
      valuesRejected: m.counter('values_rejected_total', '$SYS values dropped because they were not non-negative numbers'),
      restarts: m.counter('server_restarts_total', 'Broker restarts noticed (uptime went back)'),
    };
    this.writer = new MetricWriter(ctx, { resource: this.resource, seriesLimited: m.counter('series_limited_total', 'Series refused by the runtime series limit') });
    this.status = new StatusChangeReporter(ctx, `MQTT broker at ${this.where} is healthy again`);
  }

  start(): void {
    if (this.stopped || this.client) return;
    const config = this.ctx.config;
    this.ctx.status.set('starting', `connecting to the MQTT broker at ${this.where}`);
    const options: IClientOptions = {
      clientId: config.clientId ?? `sextant-${randomBytes(6).toString('hex')}`,
      username: config.username,
      password: config.password,
      connectTimeout: config.timeout,
      reconnectPeriod: Math.max(1000, Math.min(30_000, this.ctx.intervalMs)),
      clean: true,
      rejectUnauthorized: config.rejectUnauthorized,
      protocolVersion: 4,
    };
    const client = connect(this.url.toString(), options);
    this.client = client;
    client.on('connect', () => {
      this.lastError = undefined;
      this.ctx.logger.info(`connected to the MQTT broker at ${this.where}`);
      client.subscribe(`${SYS_PREFIX}#`, { qos: 0 }, (error) => {
        if (error && !this.stopped) this.lastError = error;
      });
    });
    client.on('message', (topic, payload) => {
      if (!topic.startsWith(SYS_PREFIX)) return;
      const name = topic.slice(SYS_PREFIX.length);
      if (!TOPICS.has(name)) return;
      this.latest.set(name, payload.toString('utf8', 0, Math.min(payload.length, 64)));
      this.lastMessageAt = this.ctx.clock.now();
    });
    // without an 'error' listener a refused connection would crash the process
    client.on('error', (error) => {
      if (this.stopped) return;
      if (this.lastError === undefined) this.ctx.logger.warn(`MQTT broker at ${this.where}: ${formatError(this.classify(error))}`);
      this.lastError = error;
    });
  }

  async collect(): Promise<void> {
    if (this.stopped) return;
    if (!this.client) this.start();
    const client = this.client!;
    if (!client.connected || this.latest.size === 0) await this.waitForData();
    if (this.stopped) return;
    if (!client.connected) {
      this.counters.connectionErrors.add(1);
      this.status.report('error', this.lastError !== undefined ? this.classify(this.lastError) : new SextantError(ErrorCode.CONNECTION_FAILED, `not connected to the MQTT broker at ${this.where}`, { hint: `is the broker running and listening on ${this.where}? check url` }));
      return;
    }
    const now = this.ctx.clock.now();
    const staleAfter = 3 * this.ctx.intervalMs + 10_000;
    if (this.latest.size === 0 || !(now - this.lastMessageAt <= staleAfter)) {
      this.status.report('degraded', new SextantError(ErrorCode.COLLECT_FAILED, `the MQTT broker at ${this.where} published no $SYS/broker statistics ${this.latest.size === 0 ? 'since the collector subscribed' : 'for a while'}`, {
        hint: 'set sys_interval > 0 in mosquitto.conf, and let the collector\'s user read $SYS/# (acl: topic read $SYS/#)',
      }));
      return;
    }
    this.processSys(this.latest, now);
    this.status.report('ok');
  }

  /** Waits (bounded by timeout) until connected with $SYS values, or a connection error. */
  private waitForData(): Promise<void> {
    return new Promise((resolve) => {
      const deadline = Date.now() + this.ctx.config.timeout;
      const tick = () => {
        const client = this.client;
        const ready = client?.connected && this.latest.size > 0;
        const failed = this.lastError !== undefined && !client?.connected;
        if (ready || failed || this.stopped || Date.now() >= deadline) resolve();
        else setTimeout(tick, 20);
      };
      tick();
    });
  }

  private classify(error: unknown): SextantError {
    if (isSextantError(error)) return error;
    const code = (error as { code?: unknown } | undefined)?.code;
    const message = error instanceof Error ? error.message : String(error);
    // CONNACK return codes (MQTT 3.1.1): 2 identifier rejected, 4 bad user name or password, 5 not authorized
    if (code === 4 || code === 5 || /not authori[sz]ed|bad user ?name or password/i.test(message)) {
      return new SextantError(ErrorCode.AUTH_FAILED, `the MQTT broker at ${this.where} refused the collector's credentials (${message})`, { hint: 'check username/password (and the broker\'s password_file / allow_anonymous)', cause: error });
    }
    if (code === 2 || /identifier rejected/i.test(message)) {
      return new SextantError(ErrorCode.CONFIG_INVALID, `the MQTT broker at ${this.where} rejected the client id (${message})`, { hint: 'set clientId to an id the broker accepts, or leave it out for a random one', cause: error });
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new SextantError(ErrorCode.CONNECTION_FAILED, `cannot resolve the MQTT broker host "${this.url.hostname}"`, { hint: 'check the host name in url', cause: error });
    return new SextantError(ErrorCode.CONNECTION_FAILED, `cannot reach the MQTT broker at ${this.where} (${typeof code === 'string' ? code : message})`, {
      hint: `is the broker running and listening on ${this.where}? check url (mqtt:// for plain, mqtts:// for TLS)`,
      cause: error,
    });
  }

  /** Writes the latest `$SYS/broker/...` values (topic below the prefix -> payload) at `now` (ms). */
  processSys(latest: ReadonlyMap<string, string>, now: number): void {
    const uptimePayload = latest.get('uptime');
    const uptime = uptimePayload === undefined ? Number.NaN : sysValue(uptimePayload);
    if (Number.isFinite(uptime)) {
      if (uptime < this.lastUptime) this.noticeRestart(now, uptime);
      this.lastUptime = uptime;
    }
    for (const [topic, payload] of latest) {
      const entry = TOPICS.get(topic);
      if (!entry) continue;
      const value = sysValue(payload);
      if (!Number.isFinite(value) || value < 0) {
        this.counters.valuesRejected.add(1);
        continue;
      }
      if (entry.spec.read === 'gauge') this.writer.gauge(entry.spec, entry.attributes, value, now);
      else this.writer.rate(entry.spec, entry.attributes, value, now);
    }
  }

  private noticeRestart(now: number, uptime: number): void {
    this.counters.restarts.add(1);
    this.writer.forgetRates();
    this.ctx.sink.event({
      type: 'mqtt.restart',
      timestamp: now,
      title: `MQTT broker at ${this.where} restarted (up ${uptime} s)`,
      resource: this.resource,
      attributes: { 'mqtt.broker.uptime': uptime },
      severity: 'warning',
      source: 'mqtt',
    });
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const client = this.client;
    this.client = undefined;
    // force: do not wait for in-flight packets to a broker that may be gone
    if (client) await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }
}

export const mqttCollectorFactory = createCollectorFactory<MqttConfig>({
  type: 'mqtt',
  stability: 'alpha',
  description: 'MQTT broker metrics from $SYS/broker topics (Mosquitto): clients, messages and bytes, dropped publishes, stored and retained messages, subscriptions, heap.',
  configSchema: mqttConfigSchema,
  defaults: mqttConfigDefaults,
  configJsonSchema: z.toJSONSchema(mqttConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  create: (ctx) => new MqttCollector(ctx),
});
