/** What a user sees when a target misbehaves: a status, up = 0 and a counter, never a crash or a partial page. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '@sextant/plugin-api';
import { freePort, startCollector, type CollectorHarness } from '@sextant/testkit';
import { prometheusCollectorFactory } from '../src/index.js';
import { serve, type TestServer } from './http-fixture.js';

const servers: TestServer[] = [];
let harness: CollectorHarness | undefined;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sextant-prom-'));
});
afterEach(async () => {
  await harness?.shutdown();
  harness = undefined;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

async function page(body: string | ((req: import('node:http').IncomingMessage) => string), contentType = 'text/plain; version=0.0.4'): Promise<TestServer> {
  const s = await serve((req, res) => {
    res.setHeader('content-type', contentType);
    res.end(typeof body === 'function' ? body(req) : body);
  });
  servers.push(s);
  return s;
}

async function scrapeOnce(config: Record<string, unknown>, maxSeries?: number): Promise<CollectorHarness> {
  harness = await startCollector(prometheusCollectorFactory, { config, ...(maxSeries ? { maxSeries } : {}) });
  await harness.collect();
  return harness;
}

describe('bad pages', () => {
  it('skips malformed lines, counts them, keeps the rest and reports degraded with the first line', async () => {
    const s = await page(['ok_a 1', 'broken{a="1" 2', 'ok_b{x="y"} 3', 'ok_c not-a-number', 'ok_d 4'].join('\n'));
    const h = await scrapeOnce({ url: s.url });
    expect(h.sink.metrics()).toEqual(expect.arrayContaining(['ok_a', 'ok_b', 'ok_d']));
    expect(h.sink.metrics()).not.toContain('ok_c');
    expect(h.metrics.counters.malformed_lines_total).toBe(2);
    expect(h.sink.last('up')).toBe(1);
    expect(h.lastStatus()).toMatchObject({ state: 'degraded', code: ErrorCode.PARSE_FAILED, message: expect.stringContaining('2 malformed line(s) skipped (first: line 2: label set is not closed') });
  });

  it('does not store NaN or Inf values but counts them; +Inf as an le label is fine', async () => {
    const s = await page(['# TYPE h histogram', 'h_bucket{le="+Inf"} 3', 'g_nan NaN', 'g_inf +Inf', 'g_ninf -Inf', 'h_count 3', 'h_sum 1.5'].join('\n'));
    const h = await scrapeOnce({ url: s.url });
    expect(h.metrics.counters.non_finite_values_total).toBe(3);
    expect(h.sink.metrics()).not.toContain('g_nan');
    expect(h.sink.last('h_bucket', { le: '+Inf' })).toBe(3);
    expect(h.sink.rejected).toBe(0);
    expect(h.lastStatus()?.state).toBe('ok');
  });

  it('refuses a page over sampleLimit as a whole (up = 0, nothing written, counted)', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `exploding{user_id="${i}",session="${'s'.repeat(40)}${i}"} ${i}`);
    const s = await page(lines.join('\n'));
    const h = await scrapeOnce({ url: s.url, sampleLimit: 1000 });
    expect(h.sink.metrics()).not.toContain('exploding');
    expect(h.sink.last('up')).toBe(0);
    expect(h.metrics.counters.refused_scrapes_total).toBe(1);
    expect(h.lastStatus()).toMatchObject({ state: 'error', code: ErrorCode.LIMIT_EXCEEDED, message: expect.stringContaining('sampleLimit (1000)') });
    // series were interned for at most sampleLimit + 1 samples before the page was refused
    expect(h.sink.size).toBeLessThanOrEqual(1001 + 4);
  });

  it('drops series over labelLimit, labelValueLengthLimit and the runtime series limit, and counts each reason', async () => {
    const many = Array.from({ length: 70 }, (_, i) => `l${i}="v"`).join(',');
    const s = await page([`wide{${many}} 1`, `long{v="${'x'.repeat(3000)}"} 1`, 'fine 1', ...Array.from({ length: 20 }, (_, i) => `card{i="${i}"} 1`)].join('\n'));
    const h = await scrapeOnce({ url: s.url }, 14);
    expect(h.sink.metrics()).not.toContain('wide');
    expect(h.sink.metrics()).not.toContain('long');
    expect(h.sink.last('fine')).toBe(1);
    expect(h.metrics.counters.dropped_series_total).toBe(2 + 11);
    expect(h.sink.of('card').length).toBe(9);
    expect(h.lastStatus()).toMatchObject({ state: 'degraded', message: expect.stringContaining('label_limit: 1, label_value_length: 1, series_limit: 11') });
  });

  it('refuses a 50 MB page without reading it all (maxBodyBytes)', async () => {
    const chunk = `${'big_metric{label="'.padEnd(60, 'x')}"} 1\n`.repeat(16_384);
    const s = await serve((_req, res) => {
      res.setHeader('content-type', 'text/plain');
      let sent = 0;
      const write = () => {
        while (sent < 50 << 20) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', write);
        }
        res.end();
      };
      res.on('error', () => undefined);
      write();
    });
    servers.push(s);
    const h = await scrapeOnce({ url: s.url, maxBodyBytes: 4 << 20 });
    expect(h.sink.last('up')).toBe(0);
    expect(h.sink.metrics()).not.toContain('big_metric');
    expect(h.metrics.counters.refused_scrapes_total).toBe(1);
    expect(h.lastStatus()).toMatchObject({ state: 'error', code: ErrorCode.LIMIT_EXCEEDED, message: expect.stringContaining('maxBodyBytes') });
  });
});

describe('bad targets', () => {
  it('a dead target gives up = 0 and an error status, and recovers when it comes back', async () => {
    const port = await freePort();
    const h = await scrapeOnce({ url: `http://127.0.0.1:${port}/metrics` });
    expect(h.sink.last('up')).toBe(0);
    expect(h.metrics.counters.scrape_failures_total).toBe(1);
    expect(h.lastStatus()).toMatchObject({ state: 'error', code: ErrorCode.CONNECTION_FAILED, message: expect.stringContaining(`cannot scrape http://127.0.0.1:${port}/metrics`) });
    await h.collect();
    expect(h.sink.of('up').map((r) => r.value)).toEqual([0, 0]);
  });

  it('a slow target times out (up = 0, timeout counted)', async () => {
    const s = await serve(async (_req, res) => {
      await new Promise((r) => setTimeout(r, 3000));
      res.end('late 1');
    });
    servers.push(s);
    const h = await scrapeOnce({ url: s.url, timeout: '300ms' });
    expect(h.sink.last('up')).toBe(0);
    expect(h.sink.metrics()).not.toContain('late');
    expect(h.lastStatus()?.message).toContain('did not answer within 300 ms');
  });

  it('an HTTP error status is up = 0 with the status in the message', async () => {
    const s = await serve((_req, res) => {
      res.statusCode = 503;
      res.end('maintenance');
    });
    servers.push(s);
    const h = await scrapeOnce({ url: s.url });
    expect(h.sink.last('up')).toBe(0);
    expect(h.lastStatus()).toMatchObject({ state: 'error', message: expect.stringContaining('answered HTTP 503') });
  });
});

describe('auth and labels', () => {
  const guarded = (expected: string) =>
    page((req) => (req.headers.authorization === expected ? 'secret_metric 42\n' : 'denied 1\n'));

  it('sends a bearer token from a file (re-read every scrape) and basic auth', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 's3cret\n');
    const bearer = await guarded('Bearer s3cret');
    expect((await scrapeOnce({ url: bearer.url, bearerTokenFile: tokenFile })).sink.last('secret_metric')).toBe(42);
    await harness!.shutdown();
    const basic = await guarded(`Basic ${Buffer.from('ops:pw').toString('base64')}`);
    expect((await scrapeOnce({ url: basic.url, basicAuth: { username: 'ops', password: 'pw' } })).sink.last('secret_metric')).toBe(42);
  });

  it('a missing token file is an auth error, not a crash', async () => {
    const s = await page('x 1');
    const h = await scrapeOnce({ url: s.url, bearerTokenFile: join(dir, 'nope') });
    expect(h.sink.last('up')).toBe(0);
    expect(h.lastStatus()).toMatchObject({ state: 'error', code: ErrorCode.AUTH_FAILED });
  });

  it('honourLabels decides whether job/instance on samples win or become exported_*', async () => {
    const s = await page('fed{job="upstream",instance="db:9187",x="1"} 5\n');
    const plain = await scrapeOnce({ url: s.url, job: 'federate' });
    expect(plain.sink.of('fed')[0]).toMatchObject({ resource: { 'service.name': 'federate' }, attributes: { exported_job: 'upstream', exported_instance: 'db:9187', x: '1' } });
    await harness!.shutdown();
    const honoured = await scrapeOnce({ url: s.url, job: 'federate', honourLabels: true });
    expect(honoured.sink.of('fed')[0]).toMatchObject({ resource: { 'service.name': 'upstream', 'service.instance.id': 'db:9187' }, attributes: { x: '1' } });
  });

  it('lists every configuration problem at once', async () => {
    await expect(startCollector(prometheusCollectorFactory, { config: { url: 'localhost:9100', keep: ['/(/'], timeout: 'soon' } })).rejects.toThrow(
      /url: must be an http\(s\) URL.*did you mean "http:\/\/localhost:9100".*timeout: must be a duration.*keep\[0\]: is not a valid glob or \/regex\//s,
    );
    await expect(startCollector(prometheusCollectorFactory, { config: { url: 'http://x', bearerToken: 'a', bearerTokenFile: '/x' } })).rejects.toThrow('use only one of bearerToken, bearerTokenFile and basicAuth');
  });
});
