import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startNotifier } from '@sextant/testkit';
import { describeNotifierConformance, sampleIncidentUpdate } from '@sextant/testkit/conformance';
import type { Notification } from '@sextant/plugin-api';
import { slackNotifierFactory } from '../src/index.js';

const TOKEN = 'xoxb-1111-2222-secretbottoken';
const CHANNEL = 'C0SEXTANT';
const HOOK_PATH = '/services/T0000/B0000/hooksecretpart';

interface Posted {
  readonly method: string;
  readonly body: Record<string, any>;
}

/**
 * A local server that follows the documented Slack contracts: incoming webhooks answer `ok` (200)
 * or a plain-text error (`invalid_payload` 400, `no_service` 404); Web API methods answer HTTP 200
 * with `{ok: true, ...}` or `{ok: false, error}`. `failNext` forces the next Web API answer's error.
 */
class FakeSlack {
  readonly calls: Posted[] = [];
  readonly messages = new Map<string, Record<string, any>>();
  failNext: string | undefined;
  private seq = 0;
  private server!: Server;
  port = 0;
  async start() {
    this.port = await freePort();
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const path = req.url ?? '';
        let body: Record<string, any> = {};
        try {
          body = JSON.parse(raw);
        } catch {
          /* handled below */
        }
        if (path.startsWith('/services/')) {
          this.calls.push({ method: 'webhook', body });
          if (path !== HOOK_PATH) return void res.writeHead(404).end('no_service');
          if (typeof body.text !== 'string' && !Array.isArray(body.blocks)) return void res.writeHead(400).end('invalid_payload');
          return void res.writeHead(200, { 'content-type': 'text/html' }).end('ok');
        }
        const method = path.replace(/^\/api\//, '');
        this.calls.push({ method, body });
        const answer = (o: Record<string, unknown>) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(o));
        if (req.headers.authorization !== `Bearer ${TOKEN}`) return answer({ ok: false, error: 'invalid_auth' });
        if (this.failNext) {
          const error = this.failNext;
          this.failNext = undefined;
          return answer({ ok: false, error });
        }
        if (body.channel !== CHANNEL) return answer({ ok: false, error: 'channel_not_found' });
        if (method === 'chat.postMessage') {
          if (body.thread_ts && !this.messages.has(body.thread_ts)) return answer({ ok: false, error: 'thread_not_found' });
          const ts = `1764000000.${String(++this.seq).padStart(6, '0')}`;
          this.messages.set(ts, body);
          return answer({ ok: true, channel: CHANNEL, ts, message: { text: body.text } });
        }
        if (method === 'chat.update') {
          if (!this.messages.has(body.ts)) return answer({ ok: false, error: 'message_not_found' });
          this.messages.set(body.ts, { ...this.messages.get(body.ts), ...body });
          return answer({ ok: true, channel: CHANNEL, ts: body.ts, text: body.text });
        }
        answer({ ok: false, error: 'unknown_method' });
      });
    });
    await new Promise<void>((r) => this.server.listen(this.port, '127.0.0.1', r));
  }
  get base() {
    return `http://127.0.0.1:${this.port}`;
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

const slack = new FakeSlack();
beforeAll(() => slack.start());
afterAll(() => slack.stop());

const URL_OF_INCIDENT = 'https://sextant.example.com/incidents/inc-test-1';
const n = (change: 'opened' | 'updated' | 'resolved', sequence: number, incidentId = 'inc-test-1'): Notification => ({
  idempotencyKey: `${incidentId}:${sequence}`,
  update: { ...sampleIncidentUpdate({ id: incidentId }, change, sequence), reason: change === 'updated' ? 'likely cause changed' : undefined },
  attempt: 1,
  url: URL_OF_INCIDENT,
});
const webhookConfig = (path = HOOK_PATH) => ({ webhookUrl: `${slack.base}${path}`, allow: ['127.0.0.1'] });
const botConfig = (extra: Record<string, unknown> = {}) => ({ token: TOKEN, channel: CHANNEL, apiBaseUrl: `${slack.base}/api`, allow: ['127.0.0.1'], ...extra });

describeNotifierConformance(slackNotifierFactory, {
  config: { webhookUrl: 'http://127.0.0.1:9/services/T/B/x', allow: ['127.0.0.1'] },
  invalid: { config: { token: TOKEN }, path: 'slack.channel' },
});

describe('slack notifier, incoming webhook', () => {
  it('posts text and blocks: title, impact, severity, likely cause with evidence, link button, context', async () => {
    const h = await startNotifier(slackNotifierFactory, { config: webhookConfig() });
    const before = slack.calls.length;
    expect(await h.notifier.deliver(n('opened', 1))).toEqual({ ok: true, detail: 'Slack webhook answered 200' });
    const { body } = slack.calls[before];
    expect(body).toEqual({
      text: '[critical] opened: checkout latency p90 rose 8x after deploy of payments 2.4.1',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: ':red_circle: checkout latency p90 rose 8x after deploy of payments 2.4.1', emoji: true } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Impact*\nbusiness' },
            { type: 'mrkdwn', text: '*Severity*\ncritical' },
            { type: 'mrkdwn', text: '*Status*\nopen' },
            { type: 'mrkdwn', text: '*Affected*\nservice:checkout, service:payments' },
          ],
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*Likely cause* (82%): payments was deployed 2 minutes before the first anomaly\n• deploy payments 2.4.0 -&gt; 2.4.1 at 11:58\n• payments latency rose first',
          },
        },
        { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open incident' }, url: URL_OF_INCIDENT, action_id: 'sextant-open-incident' }] },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'Sextant incident `inc-test-1` · update #1 · key `inc-test-1:1`' }] },
      ],
    });
    await h.shutdown();
  });

  it('posts a Resolved message on resolve (incoming webhooks cannot edit)', async () => {
    const h = await startNotifier(slackNotifierFactory, { config: webhookConfig() });
    const before = slack.calls.length;
    await h.notifier.deliver(n('resolved', 4));
    const { body } = slack.calls[before];
    expect(body.text).toBe('[critical] resolved: checkout latency p90 rose 8x after deploy of payments 2.4.1');
    expect(body.blocks[0].text.text).toBe(':white_check_mark: Resolved: checkout latency p90 rose 8x after deploy of payments 2.4.1');
    expect(body.blocks[1].fields[2].text).toMatch(/^\*Status\*\nresolved <!date\^\d+\^/);
    await h.shutdown();
  });

  it('escapes mrkdwn in values and applies the title template', async () => {
    const h = await startNotifier(slackNotifierFactory, { config: { ...webhookConfig(), template: { title: '{{incident.impact}}: {{incident.title}}', text: '{{incident.title}}' } } });
    const before = slack.calls.length;
    const evil = n('opened', 1);
    const update = { ...evil.update, incident: { ...evil.update.incident, title: '<!channel> pay <https://evil|here>', entities: ['svc:<a>&'] } };
    await h.notifier.deliver({ ...evil, update });
    const { body } = slack.calls[before];
    expect(body.blocks[0].text.text).toBe(':red_circle: business: <!channel> pay <https://evil|here>'); // plain_text: Slack renders it literally
    expect(body.blocks[1].fields[3].text).toBe('*Affected*\nsvc:&lt;a&gt;&amp;');
    await h.shutdown();
  });

  it('classifies a removed webhook (404 no_service) as not retryable and keeps the URL secret out of it', async () => {
    const h = await startNotifier(slackNotifierFactory, { config: webhookConfig('/services/T0000/B0000/revokedsecretpart') });
    const outcome = await h.notifier.deliver(n('opened', 1));
    expect(outcome).toEqual({ ok: false, retryable: false, error: 'Slack webhook answered 404: no_service' });
    expect(JSON.stringify([h.statuses, h.logger.lines])).not.toContain('revokedsecretpart');
    await h.shutdown();
  });

  it('refuses a loopback webhook URL without an allow list, without printing the URL path', async () => {
    const err = await startNotifier(slackNotifierFactory, { config: { webhookUrl: `${slack.base}${HOOK_PATH}` } }).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'SEXTANT_ERR_URL_REFUSED' });
    expect(String((err as Error).message)).not.toContain('hooksecretpart');
  });
});

describe('slack notifier, bot token', () => {
  it('opens with chat.postMessage, threads updates, and on resolve rewrites the original with chat.update', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sextant-slack-'));
    const h = await startNotifier(slackNotifierFactory, { config: botConfig(), dataDir });
    const before = slack.calls.length;
    expect(await h.notifier.deliver(n('opened', 1, 'inc-bot-1'))).toEqual({ ok: true, detail: 'posted a new message' });
    expect(await h.notifier.deliver(n('updated', 2, 'inc-bot-1'))).toEqual({ ok: true, detail: 'replied in the incident thread' });
    expect(await h.notifier.deliver(n('resolved', 3, 'inc-bot-1'))).toEqual({ ok: true, detail: 'updated the original message and replied in its thread' });
    const calls = slack.calls.slice(before);
    expect(calls.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.postMessage', 'chat.update', 'chat.postMessage']);
    const opening = calls[0].body;
    expect(opening).toMatchObject({
      channel: CHANNEL,
      text: '[critical] opened: checkout latency p90 rose 8x after deploy of payments 2.4.1',
      metadata: { event_type: 'sextant_incident', event_payload: { incident_id: 'inc-bot-1', change: 'opened', sequence: 1, idempotency_key: 'inc-bot-1:1' } },
    });
    expect(opening.thread_ts).toBeUndefined();
    const ts = calls[1].body.thread_ts as string;
    expect(slack.messages.get(ts)!.thread_ts, 'the thread root is the opening message').toBeUndefined();
    expect(calls[1].body).toMatchObject({ channel: CHANNEL, thread_ts: ts, metadata: { event_payload: { idempotency_key: 'inc-bot-1:2' } } });
    expect(calls[2].body).toMatchObject({ channel: CHANNEL, ts });
    expect(slack.messages.get(ts)!.blocks[0].text.text).toContain('Resolved:');
    expect(calls[3].body).toMatchObject({ thread_ts: ts, text: expect.stringContaining('resolved') });
    await h.shutdown();
  });

  it('keeps the thread across a restart and does not post an already delivered update again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sextant-slack-'));
    const first = await startNotifier(slackNotifierFactory, { config: botConfig(), dataDir });
    await first.notifier.deliver(n('opened', 1, 'inc-bot-2'));
    await first.notifier.deliver(n('updated', 2, 'inc-bot-2'));
    await first.shutdown();
    const ts = [...slack.messages.entries()].find(([, m]) => m.metadata?.event_payload?.idempotency_key === 'inc-bot-2:1')![0];

    const second = await startNotifier(slackNotifierFactory, { config: botConfig(), dataDir });
    const before = slack.calls.length;
    expect(await second.notifier.deliver(n('updated', 2, 'inc-bot-2'))).toEqual({ ok: true, detail: 'update #2 was already posted' });
    expect(await second.notifier.deliver(n('updated', 3, 'inc-bot-2'))).toMatchObject({ ok: true });
    const calls = slack.calls.slice(before);
    expect(calls).toHaveLength(1);
    expect(calls[0].body.thread_ts).toBe(ts);
    await second.shutdown();
  });

  it("handles Slack's ok:false answers: ratelimited retryable; invalid_auth and channel_not_found not, with a hint", async () => {
    const h = await startNotifier(slackNotifierFactory, { config: botConfig() });
    slack.failNext = 'ratelimited';
    expect(await h.notifier.deliver(n('opened', 1, 'inc-bot-3'))).toEqual({ ok: false, retryable: true, error: 'Slack chat.postMessage failed: ratelimited' });
    await h.shutdown();

    const wrongChannel = await startNotifier(slackNotifierFactory, { config: botConfig({ channel: 'C0NOPE' }) });
    expect(await wrongChannel.notifier.deliver(n('opened', 1, 'inc-bot-3'))).toMatchObject({
      ok: false,
      retryable: false,
      error: expect.stringContaining('channel_not_found (the channel does not exist or the bot cannot see it'),
    });
    await wrongChannel.shutdown();

    const wrongToken = await startNotifier(slackNotifierFactory, { config: botConfig({ token: 'xoxb-wrong-token-value' }) });
    const outcome = await wrongToken.notifier.deliver(n('opened', 1, 'inc-bot-3'));
    expect(outcome).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('invalid_auth (the bot token is wrong') });
    expect(JSON.stringify([outcome, wrongToken.statuses, wrongToken.logger.lines])).not.toContain('xoxb-wrong-token-value');
    await wrongToken.shutdown();
  });

  it('posts the resolution as a new message when the original was deleted', async () => {
    const h = await startNotifier(slackNotifierFactory, { config: botConfig() });
    await h.notifier.deliver(n('opened', 1, 'inc-bot-4'));
    const ts = [...slack.messages.entries()].find(([, m]) => m.metadata?.event_payload?.idempotency_key === 'inc-bot-4:1')![0];
    slack.messages.delete(ts);
    expect(await h.notifier.deliver(n('resolved', 2, 'inc-bot-4'))).toMatchObject({ ok: true, detail: expect.stringContaining('original message was gone') });
    await h.shutdown();
  });

  it('refuses a config with both modes or neither', async () => {
    await expect(startNotifier(slackNotifierFactory, { config: { ...botConfig(), webhookUrl: `${slack.base}${HOOK_PATH}` } })).rejects.toThrow('not both');
    await expect(startNotifier(slackNotifierFactory, { config: {} })).rejects.toThrow('slack.webhookUrl');
  });
});
