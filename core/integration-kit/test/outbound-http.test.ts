import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@sextant/testkit';
import { MAX_RESPONSE_BYTES, guardedLookup, outcomeForStatus, parseRetryAfter, postOutbound, type OutboundRequest } from '../src/index.js';

const SECRET = 'sk-live-0123456789abcdef';

/** A receiver whose answer each test sets; it records what arrived. */
let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
const received: { path: string; body: string; headers: IncomingMessage['headers'] }[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body, headers: req.headers });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function request(overrides: Partial<OutboundRequest> = {}): OutboundRequest {
  return { url: `${base}/hook`, body: '{"hello":1}', headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` }, timeoutMs: 5_000, allow: ['127.0.0.1'], secrets: [SECRET], ...overrides };
}

async function deliver(overrides: Partial<OutboundRequest> = {}, nowMs = Date.now()) {
  const result = await postOutbound(request(overrides), 'test receiver');
  if (result.kind === 'failed') return result.outcome;
  return outcomeForStatus(result.status, result.text, result.headers, 'test receiver', [SECRET], nowMs);
}

describe('postOutbound + outcomeForStatus against a real receiver', () => {
  it('POSTs the body and headers, and a 2xx is ok', async () => {
    answer = (_req, res) => res.writeHead(204).end();
    received.length = 0;
    expect(await deliver()).toEqual({ ok: true, detail: 'test receiver answered 204' });
    expect(received).toHaveLength(1);
    expect(received[0].path).toBe('/hook');
    expect(received[0].body).toBe('{"hello":1}');
    expect(received[0].headers['content-type']).toBe('application/json');
  });

  it('makes 500 and 429 retryable with Retry-After in delta-seconds or as an HTTP date', async () => {
    answer = (_req, res) => res.writeHead(503, { 'retry-after': '7' }).end('busy');
    expect(await deliver()).toEqual({ ok: false, retryable: true, error: 'test receiver answered 503: busy', retryAfterMs: 7000 });
    const now = Date.parse('2026-03-01T10:00:00Z');
    answer = (_req, res) => res.writeHead(429, { 'retry-after': 'Sun, 01 Mar 2026 10:00:30 GMT' }).end();
    expect(await deliver({}, now)).toEqual({ ok: false, retryable: true, error: 'test receiver answered 429', retryAfterMs: 30_000 });
    answer = (_req, res) => res.writeHead(500, { 'retry-after': 'soon' }).end();
    expect(await deliver()).toEqual({ ok: false, retryable: true, error: 'test receiver answered 500' });
  });

  it("makes other 4xx final, keeping the receiver's error text with the secret redacted", async () => {
    answer = (_req, res) => res.writeHead(400).end(`{"error": "invalid key ${SECRET}",\n "hint": "rotate it"}`);
    const outcome = await deliver();
    expect(outcome).toEqual({ ok: false, retryable: false, error: 'test receiver answered 400: {"error": "invalid key [redacted]", "hint": "rotate it"}' });
  });

  it('does not follow a redirect (it would bypass the SSRF guard) and says so', async () => {
    answer = (req, res) => (req.url === '/hook' ? res.writeHead(301, { location: `${base}/elsewhere?key=${SECRET}` }).end() : res.writeHead(200).end());
    received.length = 0;
    const outcome = await deliver();
    expect(outcome).toEqual({
      ok: false,
      retryable: false,
      error: `test receiver answered 301 (redirect to ${base}/elsewhere?key=[redacted]); redirects are not followed, configure the final URL`,
    });
    expect(received.map((r) => r.path)).toEqual(['/hook']);
  });

  it('refuses a loopback URL that is not allow-listed without sending anything, as a final failure', async () => {
    received.length = 0;
    const outcome = await deliver({ allow: [] });
    expect(outcome.ok).toBe(false);
    expect(outcome).toMatchObject({ retryable: false });
    expect(!outcome.ok && outcome.error).toMatch(/^SEXTANT_ERR_URL_REFUSED: 127\.0\.0\.1 is loopback/);
    expect(received).toHaveLength(0);
  });

  it('makes a refused connection, a timeout and a shutdown retryable, naming the host and never the secret', async () => {
    const dead = await freePort();
    const refused = await deliver({ url: `http://127.0.0.1:${dead}/${SECRET}` });
    expect(refused).toEqual({ ok: false, retryable: true, error: `cannot reach test receiver at 127.0.0.1:${dead}: ECONNREFUSED` });

    const hung: ServerResponse[] = [];
    answer = (_req, res) => void hung.push(res);
    const slow = await deliver({ timeoutMs: 200 });
    expect(slow).toEqual({ ok: false, retryable: true, error: `cannot reach test receiver at ${new URL(base).host}: timed out after 200 ms` });

    const stopping = new AbortController();
    const pending = deliver({ signal: stopping.signal });
    setTimeout(() => stopping.abort(), 50);
    expect(await pending).toEqual({ ok: false, retryable: true, error: `cannot reach test receiver at ${new URL(base).host}: notifier is shutting down` });
    for (const res of hung) res.destroy();
  });

  it(`reads at most ${MAX_RESPONSE_BYTES} bytes of a huge answer`, async () => {
    answer = (_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      const pump = () => {
        while (sent < 16 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => (sent = Infinity));
      pump();
    };
    const result = await postOutbound(request(), 'test receiver');
    expect(result).toMatchObject({ kind: 'response', status: 200 });
    expect(result.kind === 'response' && result.text.length).toBe(MAX_RESPONSE_BYTES);
  });
});

describe('the SSRF guard at connect time (DNS answers played by the test, never real DNS)', () => {
  /** A resolver that answers each lookup of a name with the next entry of its script (the last one repeats). */
  function scriptedDns(script: Record<string, string[][]>) {
    const asked: string[] = [];
    const resolve = async (host: string) => {
      asked.push(host);
      const answers = script[host];
      if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return answers.length > 1 ? answers.shift()! : answers[0];
    };
    return { resolve, asked };
  }

  it('refuses a name whose answer turns internal between the check and the connection (DNS rebinding), sending nothing', async () => {
    received.length = 0;
    const port = new URL(base).port;
    // First answer public (the pre-check passes), second answer loopback (where the socket would go).
    const dns = scriptedDns({ 'hooks.rebind.test': [['93.184.216.34'], ['127.0.0.1']] });
    const outcome = await deliver({ url: `http://hooks.rebind.test:${port}/hook`, allow: [], resolve: dns.resolve });
    expect(outcome).toEqual({
      ok: false,
      retryable: false,
      error: 'SEXTANT_ERR_URL_REFUSED: hooks.rebind.test resolves to 127.0.0.1, which is loopback; if this receiver is meant to be internal, add "hooks.rebind.test" to the notifier\'s allow list',
    });
    expect(dns.asked).toEqual(['hooks.rebind.test', 'hooks.rebind.test']);
    expect(received).toHaveLength(0);
  });

  it('connects to exactly the address that was checked: an allow-listed name reaches the loopback receiver through the hook', async () => {
    answer = (_req, res) => res.writeHead(204).end();
    received.length = 0;
    const port = new URL(base).port;
    const dns = scriptedDns({ 'hooks.internal.test': [['127.0.0.1']] });
    expect(await deliver({ url: `http://hooks.internal.test:${port}/hook`, allow: ['hooks.internal.test'], resolve: dns.resolve })).toEqual({ ok: true, detail: 'test receiver answered 204' });
    expect(received).toHaveLength(1);
    expect(received[0].headers.host).toBe(`hooks.internal.test:${port}`);
  });

  it.each([
    ['64:ff9b::a9fe:a9fe', 'NAT64'],
    ['2002:a9fe:a9fe::1', '6to4'],
    ['198.18.0.1', 'benchmarking'],
    ['169.254.169.254', 'link-local'],
  ])('the lookup hook refuses an answer of %s (%s) in both calling forms', async (address, why) => {
    const lookup = guardedLookup([], async () => [address]);
    for (const options of [{ all: true }, { family: 0 }]) {
      const err = await new Promise<NodeJS.ErrnoException | null>((done) => lookup('hooks.example.test', options, (e) => done(e)));
      expect(err).toMatchObject({ code: 'SEXTANT_ERR_URL_REFUSED', message: expect.stringContaining(`resolves to ${address}, which is`) });
      expect(err?.message).toContain(why);
    }
  });

  it('the lookup hook refuses the whole answer when one of several addresses is internal, and passes a public one on', async () => {
    const mixed = guardedLookup([], async () => ['93.184.216.34', '10.0.0.7']);
    const err = await new Promise<NodeJS.ErrnoException | null>((done) => mixed('hooks.example.test', { all: true }, (e) => done(e)));
    expect(err?.message).toContain('resolves to 10.0.0.7, which is a private range');
    const publicOnly = guardedLookup([], async () => ['93.184.216.34']);
    const one = await new Promise<[string, number]>((done) => publicOnly('hooks.example.test', { family: 0 }, (_e, address, family) => done([address as string, family as number])));
    expect(one).toEqual(['93.184.216.34', 4]);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-03-01T10:00:00Z');
  it('reads delta-seconds and HTTP dates, never negative', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 10:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 09:00:00 GMT', now)).toBe(0);
  });
  it('ignores absent and unreadable values', () => {
    for (const v of [null, '', '  ', 'soon', 'NaN', 'Mon, 99 Foo 2026']) expect(parseRetryAfter(v, now), String(v)).toBeUndefined();
  });
  it('never returns a negative delay, whatever the date parser makes of odd text', () => {
    for (const v of ['-5', '1.5', '1970-01-01']) expect(parseRetryAfter(v, now), v).toBe(0);
  });
});
