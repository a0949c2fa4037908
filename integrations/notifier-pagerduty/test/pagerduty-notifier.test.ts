import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startNotifier } from '@sextant/testkit';
import { describeNotifierConformance, sampleIncidentUpdate } from '@sextant/testkit/conformance';
import type { Notification } from '@sextant/plugin-api';
import { pagerdutyNotifierFactory } from '../src/index.js';

const ROUTING_KEY = 'R0123456789abcdef0123456789abcde'; // 32 characters, like a real integration key

/**
 * A local endpoint that follows the documented Events API v2 contract: 202 with
 * `{status, message, dedup_key}` for a valid event, 400 with `{status: "invalid event", errors}`
 * otherwise; `/busy` answers 429 and `/broken` 500.
 */
class EventsApi {
  readonly events: Record<string, any>[] = [];
  private server!: Server;
  port = 0;
  async start() {
    this.port = await freePort();
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        if (req.url === '/busy') return void res.writeHead(429).end('{"status":"throttle event","message":"Requests for this service are arriving too quickly."}');
        if (req.url === '/broken') return void res.writeHead(500).end('oops');
        const errors: string[] = [];
        let event: Record<string, any> = {};
        try {
          event = JSON.parse(raw);
        } catch {
          errors.push('Malformed JSON');
        }
        if (typeof event.routing_key !== 'string' || event.routing_key.length !== 32) errors.push("'routing_key' must be 32 characters");
        if (!['trigger', 'acknowledge', 'resolve'].includes(event.event_action)) errors.push("'event_action' is invalid");
        if (event.event_action === 'trigger') {
          const p = event.payload ?? {};
          if (!p.summary || p.summary.length > 1024) errors.push("'payload.summary' is missing or too long");
          if (!p.source) errors.push("'payload.source' is missing");
          if (!['critical', 'error', 'warning', 'info'].includes(p.severity)) errors.push("'payload.severity' is invalid");
        } else if (!event.dedup_key) errors.push("'dedup_key' is required for acknowledge and resolve");
        if (errors.length) return void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors }));
        this.events.push(event);
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: event.dedup_key }));
      });
    });
    await new Promise<void>((r) => this.server.listen(this.port, '127.0.0.1', r));
  }
  url(path = '/v2/enqueue') {
    return `http://127.0.0.1:${this.port}${path}`;
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

const api = new EventsApi();
beforeAll(() => api.start());
afterAll(() => api.stop());

const n = (change: 'opened' | 'updated' | 'resolved', sequence: number, url?: string): Notification => ({
  idempotencyKey: `inc-test-1:${sequence}`,
  update: sampleIncidentUpdate({}, change, sequence),
  attempt: 1,
  ...(url ? { url } : {}),
});
const config = (extra: Record<string, unknown> = {}) => ({ routingKey: ROUTING_KEY, endpoint: api.url(), allow: ['127.0.0.1'], ...extra });

describeNotifierConformance(pagerdutyNotifierFactory, {
  config: { routingKey: ROUTING_KEY, endpoint: 'http://127.0.0.1:9/v2/enqueue', allow: ['127.0.0.1'] },
  invalid: { config: { routingKey: ROUTING_KEY, updates: 'snooze' }, path: 'pagerduty.updates' },
});

describe('pagerduty notifier', () => {
  it('triggers, re-triggers and resolves one alert with the stable dedup key sextant-<incident id>', async () => {
    const h = await startNotifier(pagerdutyNotifierFactory, { config: config() });
    const before = api.events.length;
    const url = 'https://sextant.example.com/incidents/inc-test-1';
    expect(await h.notifier.deliver(n('opened', 1, url))).toEqual({ ok: true, detail: 'PagerDuty answered 202' });
    expect(await h.notifier.deliver(n('updated', 2, url))).toMatchObject({ ok: true });
    expect(await h.notifier.deliver(n('resolved', 3, url))).toMatchObject({ ok: true });
    const [opened, updated, resolved] = api.events.slice(before);
    expect(opened).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'sextant-inc-test-1',
      payload: {
        summary: '[business] checkout latency p90 rose 8x after deploy of payments 2.4.1',
        source: 'sextant',
        severity: 'critical',
        timestamp: '2026-11-24T12:01:00.000Z',
        component: 'service:checkout',
        group: 'service:payments',
        class: 'business impact',
        custom_details: {
          incident_id: 'inc-test-1',
          change: 'opened',
          sequence: 1,
          impact: 'business',
          entities: ['service:checkout', 'service:payments'],
          likely_causes: [
            { entity: 'service:payments', score: 0.82, summary: 'payments was deployed 2 minutes before the first anomaly', evidence: ['deploy payments 2.4.0 -> 2.4.1 at 11:58', 'payments latency rose first'] },
          ],
          idempotency_key: 'inc-test-1:1',
        },
      },
      links: [{ href: url, text: 'Open the incident in Sextant' }],
      client: 'Sextant',
      client_url: url,
    });
    expect(updated).toMatchObject({ event_action: 'trigger', dedup_key: 'sextant-inc-test-1' });
    expect(resolved).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'sextant-inc-test-1', links: [{ href: url, text: 'Open the incident in Sextant' }], client: 'Sextant', client_url: url });
    await h.shutdown();
  });

  it('acknowledges on updates when configured, and truncates the summary to 1024 characters', async () => {
    const h = await startNotifier(pagerdutyNotifierFactory, { config: config({ updates: 'acknowledge', template: { summary: 'x'.repeat(3000) } }) });
    const before = api.events.length;
    await h.notifier.deliver(n('opened', 1));
    await h.notifier.deliver(n('updated', 2));
    const [opened, updated] = api.events.slice(before);
    expect(opened.payload.summary).toHaveLength(1024);
    expect(updated).toEqual({ routing_key: ROUTING_KEY, event_action: 'acknowledge', dedup_key: 'sextant-inc-test-1', client: 'Sextant' });
    await h.shutdown();
  });

  it('classifies 400 (showing PagerDuty errors) as not retryable, 429 and 500 as retryable', async () => {
    const bad = await startNotifier(pagerdutyNotifierFactory, { config: config({ routingKey: 'too-short-key' }) });
    const outcome = await bad.notifier.deliver(n('opened', 1));
    expect(outcome).toEqual({
      ok: false,
      retryable: false,
      error: "PagerDuty refused the event (400): Event object is invalid: 'routing_key' must be 32 characters; check the routing key and the template",
    });
    await bad.shutdown();
    for (const path of ['/busy', '/broken']) {
      const h = await startNotifier(pagerdutyNotifierFactory, { config: config({ endpoint: api.url(path) }) });
      expect(await h.notifier.deliver(n('opened', 1))).toMatchObject({ ok: false, retryable: true });
      await h.shutdown();
    }
  });

  it('refuses a loopback endpoint without an allow list, and never logs the routing key', async () => {
    await expect(startNotifier(pagerdutyNotifierFactory, { config: { routingKey: ROUTING_KEY, endpoint: api.url() } })).rejects.toMatchObject({ code: 'SEXTANT_ERR_URL_REFUSED' });
    const h = await startNotifier(pagerdutyNotifierFactory, { config: config({ endpoint: api.url('/broken'), template: { summary: '{{bad.path}}' } }) });
    const outcome = await h.notifier.deliver(n('opened', 1));
    expect(JSON.stringify([outcome, h.statuses, h.logger.lines])).not.toContain(ROUTING_KEY);
    await h.shutdown();
  });
});
