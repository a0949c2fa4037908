import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startNotifier } from '@sextant/testkit';
import { describeNotifierConformance, sampleIncidentUpdate } from '@sextant/testkit/conformance';
import type { Notification } from '@sextant/plugin-api';
import { INCIDENT_WEBHOOK_SCHEMA, verifyWebhookSignature, webhookNotifierFactory } from '../src/index.js';

const SECRET = 'whsec_' + Buffer.from('a-32-byte-signing-key-for-tests!').toString('base64');

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A receiver on 127.0.0.1 whose answer each path chooses. */
class TestReceiver {
  readonly received: Received[] = [];
  private server!: Server;
  port = 0;
  async start(): Promise<void> {
    this.port = await freePort();
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.received.push({ path: req.url ?? '', headers: req.headers, body });
        const path = req.url ?? '';
        if (path === '/ok') return void res.writeHead(204).end();
        if (path === '/fail500') return void res.writeHead(500).end('database is down');
        if (path === '/limited') return void res.writeHead(429, { 'retry-after': '7' }).end('slow down');
        if (path === '/bad') return void res.writeHead(400, { 'content-type': 'text/plain' }).end('  missing field "incident"\n');
        if (path === '/echo-secret') return void res.writeHead(401).end(`invalid signature for key ${SECRET}`);
        if (path === '/moved') return void res.writeHead(301, { location: `http://127.0.0.1:${this.port}/ok` }).end();
        if (path === '/hang') return; // never answers
        res.writeHead(404).end('no such hook');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
  }
  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const receiver = new TestReceiver();
beforeAll(() => receiver.start());
afterAll(() => receiver.stop());

const notification = (change: 'opened' | 'updated' | 'resolved' = 'opened', sequence = 1, attempt = 1): Notification => ({
  idempotencyKey: `inc-test-1:${sequence}`,
  update: { ...sampleIncidentUpdate({}, change, sequence), reason: 'new anomaly on service:checkout' },
  attempt,
  url: 'https://sextant.example.com/incidents/inc-test-1',
});

const config = (path: string, extra: Record<string, unknown> = {}) => ({ url: receiver.url(path), secret: SECRET, allow: ['127.0.0.1'], ...extra });

describeNotifierConformance(webhookNotifierFactory, {
  config: { url: 'http://127.0.0.1:9/conformance', secret: SECRET, allow: ['127.0.0.1'] },
  invalid: { config: { url: 'ftp://example.com/x', secret: SECRET }, path: 'webhook.url' },
});

describe('webhook notifier', () => {
  it('POSTs the documented sextant.incident.v1 body with Standard Webhooks headers a receiver can verify', async () => {
    const h = await startNotifier(webhookNotifierFactory, { config: config('/ok') });
    const before = receiver.received.length;
    const n = notification('opened', 1);
    expect(await h.notifier.deliver(n)).toMatchObject({ ok: true });
    const got = receiver.received[before];
    const body = JSON.parse(got.body);
    expect(body).toEqual({
      schema: INCIDENT_WEBHOOK_SCHEMA,
      idempotencyKey: 'inc-test-1:1',
      change: 'opened',
      sequence: 1,
      reason: 'new anomaly on service:checkout',
      text: '[critical] opened: checkout latency p90 rose 8x after deploy of payments 2.4.1',
      incident: JSON.parse(JSON.stringify(n.update.incident)),
      url: 'https://sextant.example.com/incidents/inc-test-1',
    });
    expect(Object.keys(body)).toEqual(['schema', 'idempotencyKey', 'change', 'sequence', 'reason', 'text', 'incident', 'url']);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['webhook-id']).toBe('inc-test-1:1');
    expect(got.headers['webhook-timestamp']).toMatch(/^\d+$/);
    expect(verifyWebhookSignature(SECRET, got.headers, got.body)).toEqual({ ok: true, id: 'inc-test-1:1', timestamp: Number(got.headers['webhook-timestamp']) });
    // the signature is exactly HMAC-SHA256 over "<id>.<timestamp>.<body>" with the decoded whsec_ key
    const key = Buffer.from(SECRET.slice(6), 'base64');
    const expected = createHmac('sha256', key).update(`inc-test-1:1.${got.headers['webhook-timestamp']}.${got.body}`).digest('base64');
    expect(got.headers['webhook-signature']).toBe(`v1,${expected}`);
    await h.shutdown();
  });

  it('keeps the webhook-id of an update across retries so receivers can drop duplicates', async () => {
    const h = await startNotifier(webhookNotifierFactory, { config: config('/ok') });
    const before = receiver.received.length;
    await h.notifier.deliver(notification('updated', 3, 1));
    await h.notifier.deliver(notification('updated', 3, 2));
    const ids = receiver.received.slice(before).map((r) => r.headers['webhook-id']);
    expect(ids).toEqual(['inc-test-1:3', 'inc-test-1:3']);
    await h.shutdown();
  });

  it('signs with a raw (non-whsec_) secret as UTF-8 bytes', async () => {
    const h = await startNotifier(webhookNotifierFactory, { config: config('/ok', { secret: 'plain-shared-secret' }) });
    const before = receiver.received.length;
    await h.notifier.deliver(notification());
    const got = receiver.received[before];
    const expected = createHmac('sha256', 'plain-shared-secret').update(`${got.headers['webhook-id']}.${got.headers['webhook-timestamp']}.${got.body}`).digest('base64');
    expect(got.headers['webhook-signature']).toBe(`v1,${expected}`);
    await h.shutdown();
  });

  it('renders a user template into the text field and warns once about unknown placeholders', async () => {
    const h = await startNotifier(webhookNotifierFactory, { config: config('/ok', { template: { text: '{{incident.impact}} impact, cause {{cause.entity}} {{incident.nope}}' } }) });
    const before = receiver.received.length;
    await h.notifier.deliver(notification());
    await h.notifier.deliver(notification('updated', 2));
    expect(JSON.parse(receiver.received[before].body).text).toBe('business impact, cause service:payments ');
    expect(h.logger.lines.filter((l) => l.message.includes('{{incident.nope}}'))).toHaveLength(1);
    expect(h.metrics.counters.template_unknown_paths_total).toBe(2);
    await h.shutdown();
  });

  it('classifies outcomes: 500 and 429 retryable (with Retry-After), 400 not, 301 not followed', async () => {
    const deliverTo = async (path: string) => {
      const h = await startNotifier(webhookNotifierFactory, { config: config(path) });
      const outcome = await h.notifier.deliver(notification());
      await h.shutdown();
      return outcome;
    };
    expect(await deliverTo('/fail500')).toEqual({ ok: false, retryable: true, error: 'webhook receiver answered 500: database is down' });
    expect(await deliverTo('/limited')).toEqual({ ok: false, retryable: true, error: 'webhook receiver answered 429: slow down', retryAfterMs: 7000 });
    expect(await deliverTo('/bad')).toEqual({ ok: false, retryable: false, error: 'webhook receiver answered 400: missing field "incident"' });
    const before = receiver.received.length;
    const moved = await deliverTo('/moved');
    expect(moved).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('redirects are not followed') });
    expect(receiver.received.slice(before).map((r) => r.path)).toEqual(['/moved']);
  });

  it('treats a refused connection and a timeout as retryable', async () => {
    const closed = await freePort();
    const h1 = await startNotifier(webhookNotifierFactory, { config: { url: `http://127.0.0.1:${closed}/x`, secret: SECRET, allow: ['127.0.0.1'] } });
    expect(await h1.notifier.deliver(notification())).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('ECONNREFUSED') });
    await h1.shutdown();
    const h2 = await startNotifier(webhookNotifierFactory, { config: config('/hang', { timeoutMs: 300 }) });
    expect(await h2.notifier.deliver(notification())).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('timed out after 300 ms') });
    await h2.shutdown();
  });

  it('refuses a loopback URL that is not allow-listed: error status at start, non-retryable at delivery', async () => {
    await expect(startNotifier(webhookNotifierFactory, { config: { url: receiver.url('/ok'), secret: SECRET } })).rejects.toMatchObject({ code: 'SEXTANT_ERR_URL_REFUSED' });
    const factoryCtx = await import('@sextant/testkit');
    const config = await factoryCtx.resolveConfig(webhookNotifierFactory, { url: receiver.url('/ok'), secret: SECRET });
    const statuses: { state: string; message?: string; code?: string }[] = [];
    const notifier = await webhookNotifierFactory.create({
      config,
      instanceId: 'webhook/ssrf',
      logger: new factoryCtx.RecordingLogger(),
      clock: factoryCtx.systemClock,
      status: { set: (state, message, code) => void statuses.push({ state, message, code }) },
      metrics: new factoryCtx.RecordingMetrics(),
      signal: new AbortController().signal,
      dataDir: undefined,
    });
    await expect(notifier.start?.()).rejects.toThrow('loopback');
    expect(statuses[0]).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_URL_REFUSED', message: expect.stringContaining('127.0.0.1 is loopback') });
    const before = receiver.received.length;
    expect(await notifier.deliver(notification())).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('SEXTANT_ERR_URL_REFUSED') });
    expect(receiver.received.length).toBe(before);
  });

  it('never puts the secret in an outcome, a status or a log line, even when the receiver echoes it', async () => {
    const h = await startNotifier(webhookNotifierFactory, { config: config('/echo-secret', { template: { text: '{{unknown.path}}' } }) });
    const outcome = await h.notifier.deliver(notification());
    expect(outcome).toMatchObject({ ok: false, retryable: false, error: 'webhook receiver answered 401: invalid signature for key [redacted]' });
    const everything = JSON.stringify([outcome, h.statuses, h.logger.lines]);
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(SECRET.slice(6));
    await h.shutdown();
  });

  it('reads the secret from secretFile, and refuses a config with neither secret nor file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sextant-webhook-'));
    writeFileSync(join(dir, 'secret'), 'file-secret-value\n');
    const h = await startNotifier(webhookNotifierFactory, { config: { url: receiver.url('/ok'), secretFile: join(dir, 'secret'), allow: ['127.0.0.1'] } });
    const before = receiver.received.length;
    await h.notifier.deliver(notification());
    const got = receiver.received[before];
    expect(verifyWebhookSignature('file-secret-value', got.headers, got.body).ok).toBe(true);
    await h.shutdown();
    await expect(startNotifier(webhookNotifierFactory, { config: { url: receiver.url('/ok'), allow: ['127.0.0.1'] } })).rejects.toThrow('webhook.secret');
    await expect(startNotifier(webhookNotifierFactory, { config: { url: receiver.url('/ok'), secretFile: join(dir, 'missing'), allow: ['127.0.0.1'] } })).rejects.toThrow(
      'secretFile: cannot read',
    );
  });
});

describe('verifyWebhookSignature', () => {
  const body = '{"schema":"sextant.incident.v1"}';
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  const ts = Math.floor(now / 1000);
  const sign = (secretKey: Buffer, id: string, t: number, b: string) => `v1,${createHmac('sha256', secretKey).update(`${id}.${t}.${b}`).digest('base64')}`;
  const key = Buffer.from(SECRET.slice(6), 'base64');
  const headers = (t = ts, signature = sign(key, 'k:1', t, body)) => ({ 'webhook-id': 'k:1', 'webhook-timestamp': String(t), 'webhook-signature': signature });

  it('accepts a valid signature, also among several (key rotation) and from a Headers object', () => {
    expect(verifyWebhookSignature(SECRET, headers(), body, { now })).toEqual({ ok: true, id: 'k:1', timestamp: ts });
    expect(verifyWebhookSignature(SECRET, headers(ts, `v1,AAAA ${sign(key, 'k:1', ts, body)}`), body, { now }).ok).toBe(true);
    expect(verifyWebhookSignature(SECRET, new Headers(headers()), Buffer.from(body), { now }).ok).toBe(true);
  });
  it('rejects a tampered body, a wrong secret and missing headers', () => {
    expect(verifyWebhookSignature(SECRET, headers(), body + ' ', { now })).toEqual({ ok: false, reason: 'no matching v1 signature' });
    expect(verifyWebhookSignature('whsec_' + Buffer.from('another key').toString('base64'), headers(), body, { now }).ok).toBe(false);
    expect(verifyWebhookSignature(SECRET, { 'webhook-id': 'k:1' }, body, { now })).toMatchObject({ ok: false, reason: expect.stringContaining('missing') });
  });
  it('rejects replays outside the tolerance and timestamps from the future', () => {
    expect(verifyWebhookSignature(SECRET, headers(ts - 301), body, { now })).toMatchObject({ ok: false, reason: expect.stringContaining('possible replay') });
    expect(verifyWebhookSignature(SECRET, headers(ts - 301), body, { now, toleranceSec: 600 }).ok).toBe(true);
    expect(verifyWebhookSignature(SECRET, headers(ts + 400), body, { now })).toMatchObject({ ok: false, reason: expect.stringContaining('future') });
  });
});
