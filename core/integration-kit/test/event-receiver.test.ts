import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { createCollectorFactory, formatError, type SextantEvent } from '@sextant/plugin-api';
import { freePort, startCollector, type CollectorHarness } from '@sextant/testkit';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import {
  DEFAULT_MAX_BODY_BYTES,
  ReceiverRefusal,
  TOKEN_REQUIRED,
  createEventReceiver,
  hasToken,
  parseJsonBody,
  parseToolTimestamp,
  receiverConfigShape,
  type EventReceiver,
} from '../src/index.js';
import { postToReceiver } from '../src/testing/index.js';

const TOKEN = 'kit-token-0123456789';

/**
 * A receiver for a made-up tool, built the way every events-* package builds one: payload
 * `{"host": "...", "at": <tool timestamp>, "kind": "run" | "ping"}`; `ping` is skipped, a missing
 * host is refused. GitHub-style `X-Signature: sha256=<hmac>` authenticates from the body.
 */
const toolConfigSchema = z.object(receiverConfigShape).refine(hasToken, TOKEN_REQUIRED);
const toolFactory = createCollectorFactory<z.infer<typeof toolConfigSchema>>({
  type: 'events-tool',
  stability: 'development',
  description: 'Test receiver for a made-up tool.',
  configSchema: toolConfigSchema,
  defaults: { listen: '127.0.0.1:0', maxBodyBytes: DEFAULT_MAX_BODY_BYTES },
  create(ctx) {
    return createEventReceiver(ctx, {
      tool: 'Tool',
      tokenHeaders: ['x-tool-token'],
      authenticateBody(request, token) {
        const given = String(request.headers['x-signature'] ?? '');
        const expected = `sha256=${createHmac('sha256', token).update(request.body).digest('hex')}`;
        return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
      },
      parse(request) {
        const body = parseJsonBody(request, 'Tool') as { host?: unknown; at?: unknown; kind?: unknown };
        if (body.kind === 'ping') return { ignored: 'ping is not a change' };
        if (body.kind === 'explode') throw new Error('parser bug');
        if (typeof body.host !== 'string') throw new ReceiverRefusal(400, 'invalid', 'host must be a string');
        const event: SextantEvent = { type: 'config.run', timestamp: parseToolTimestamp(body.at) ?? ctx.clock.now(), title: `Tool ran on ${body.host}`, resource: { 'host.name': body.host }, source: 'tool' };
        return { events: [event] };
      },
    });
  },
});

describeCollectorConformance(toolFactory, {
  config: { listen: '127.0.0.1:0', token: TOKEN },
  invalid: { config: { listen: '127.0.0.1:0' }, path: 'events-tool.token' },
});

let h: CollectorHarness | undefined;
afterEach(async () => {
  await h?.shutdown();
  h = undefined;
});
async function start(config: Record<string, unknown> = {}) {
  h = await startCollector(toolFactory, { config: { listen: '127.0.0.1:0', token: TOKEN, ...config } });
  return { h, port: (h.collector as EventReceiver).address()!.port };
}
const run = JSON.stringify({ host: 'web-1', at: '2026-03-01 10:00:42 +0000', kind: 'run' });

describe('createEventReceiver', () => {
  it('accepts the token as Bearer, X-Sextant-Token, Basic password or the tool header, and writes one event each', async () => {
    const { h, port } = await start();
    const basic = `Basic ${Buffer.from(`any-user:${TOKEN}`).toString('base64')}`;
    const ways: Record<string, string>[] = [{ authorization: `Bearer ${TOKEN}` }, { 'x-sextant-token': TOKEN }, { authorization: basic }, { 'x-tool-token': TOKEN }];
    for (const headers of ways) {
      expect(await postToReceiver(port, run, headers)).toEqual({ status: 202, body: { accepted: 1 } });
    }
    expect(h.sink.events).toHaveLength(4);
    expect(h.sink.events[0]).toMatchObject({ type: 'config.run', timestamp: Date.UTC(2026, 2, 1, 10, 0, 42), resource: { 'host.name': 'web-1' } });
    expect(h.metrics.counters.events_total).toBe(4);
    expect(h.lastStatus()?.state).toBe('ok');
  });

  it('authenticates a signed body when no token header matches, and refuses a wrong signature', async () => {
    const { h, port } = await start();
    const signature = `sha256=${createHmac('sha256', TOKEN).update(run).digest('hex')}`;
    expect((await postToReceiver(port, run, { 'x-signature': signature })).status).toBe(202);
    expect(await postToReceiver(port, run, { 'x-signature': `sha256=${'0'.repeat(64)}` })).toEqual({ status: 401, body: { error: 'missing or wrong token or signature' } });
    expect(h.sink.events).toHaveLength(1);
  });

  it('refuses wrong methods, tokens, oversized and malformed bodies with 4xx and a counter, storing nothing', async () => {
    const { h, port } = await start({ maxBodyBytes: 4096 });
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect(await postToReceiver(port, run, auth, { method: 'PUT' })).toEqual({ status: 405, body: { error: 'use POST (got PUT)' } });
    expect((await postToReceiver(port, run, { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await postToReceiver(port, run, { authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await postToReceiver(port, run, {})).status).toBe(401);
    const big = JSON.stringify({ host: 'web-1', pad: 'x'.repeat(10 * 1024 * 1024) });
    expect(await postToReceiver(port, big, auth)).toEqual({ status: 413, body: { error: `body of ${big.length} bytes is larger than maxBodyBytes (4096 bytes)` } });
    expect(await postToReceiver(port, big, auth, { chunked: true })).toEqual({ status: 413, body: { error: 'body is larger than maxBodyBytes (4096 bytes)' } });
    const malformed = await postToReceiver(port, '{"host": ', auth);
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatch(/^malformed Tool JSON: /);
    expect(await postToReceiver(port, JSON.stringify({ host: 42 }), auth)).toEqual({ status: 400, body: { error: 'host must be a string' } });
    expect(await postToReceiver(port, JSON.stringify({ kind: 'explode' }), auth)).toEqual({ status: 400, body: { error: 'cannot read the Tool payload: parser bug' } });
    expect(h.sink.events).toHaveLength(0);
    expect(h.metrics.counters.rejected_total).toBe(9);
    expect(h.metrics.counters.events_total ?? 0).toBe(0);
    // still serving after all that
    expect((await postToReceiver(port, run, auth)).status).toBe(202);
  });

  it('answers 202 to a payload it knowingly skips, and counts it', async () => {
    const { h, port } = await start();
    expect(await postToReceiver(port, JSON.stringify({ kind: 'ping' }), { 'x-sextant-token': TOKEN })).toEqual({ status: 202, body: { accepted: 0, ignored: 'ping is not a change' } });
    expect(h.sink.events).toHaveLength(0);
    expect(h.metrics.counters.ignored_total).toBe(1);
  });

  it('reads the token from tokenFile', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sextant-kit-receiver-')), 'token');
    writeFileSync(file, `${TOKEN}\n`);
    const { port } = await start({ token: undefined, tokenFile: file });
    expect((await postToReceiver(port, run, { authorization: `Bearer ${TOKEN}` })).status).toBe(202);
  });

  it('fails start with a coded error naming the fix when the port is taken', async () => {
    const port = await freePort();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const error = await startCollector(toolFactory, { config: { listen: `127.0.0.1:${port}`, token: TOKEN } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(formatError(error)).toBe(`SEXTANT_ERR_CONFIG_INVALID: cannot listen on 127.0.0.1:${port}: EADDRINUSE; another process uses this port; pick another listen port`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('refuses a listen address without a port or with a port above 65535', async () => {
    await expect(startCollector(toolFactory, { config: { listen: '127.0.0.1', token: TOKEN } })).rejects.toThrow(/events-tool\.listen: must be host:port/);
    await expect(startCollector(toolFactory, { config: { listen: '127.0.0.1:70000', token: TOKEN } })).rejects.toThrow(/listen: port 70000 is out of range/);
  });
});
