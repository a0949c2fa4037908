/**
 * Reads the stub_status page once per round and writes `nginx.up`, `nginx.connections_current`
 * and the connection/request rates. Cumulative counters go through CounterRate, so an nginx restart
 * (counters back to 0) yields no rate for that round instead of a negative one.
 *
 * When several candidate URLs are configured (host/port without url) they are tried in order and
 * the first that serves a stub_status page is kept; it is forgotten again if it stops serving one.
 */
import { ErrorCode, type Attributes, type CollectorContext, type SelfCounter, type SeriesId } from '@sextant/plugin-api';
import { CounterRate, readBodyCapped } from '@sextant/plugin-kit';
import { statusUrlCandidates, type NginxConfig } from './config.js';
import { nginxSeries } from './metrics.js';
import { parseStubStatus, STUB_STATUS_MAX_BYTES, type StubStatus } from './stub-status.js';

/** A source's verdict on one round. */
export interface SourceHealth {
  readonly state: 'ok' | 'degraded' | 'error';
  readonly message?: string;
  readonly code?: string;
}

type FetchOutcome =
  | { readonly kind: 'page'; readonly status: StubStatus }
  | { readonly kind: 'unreachable' | 'timeout' | 'http' | 'parse'; readonly message: string; readonly hint: string; readonly auth?: boolean };

const ENABLE_HINT = 'enable it in nginx.conf: location = /nginx_status { stub_status; allow 127.0.0.1; deny all; }';

export class StubStatusSource {
  private readonly candidates: string[];
  private resolved: string | undefined;
  private readonly accepted = new CounterRate();
  private readonly handled = new CounterRate();
  private readonly dropped = new CounterRate();
  private readonly requests = new CounterRate();
  private ids: Record<'up' | 'active' | 'reading' | 'writing' | 'waiting' | 'accepted' | 'handled' | 'dropped' | 'requests', SeriesId> | undefined;
  private readonly errors: SelfCounter;
  private readonly resets: SelfCounter;

  constructor(
    private readonly ctx: CollectorContext<NginxConfig>,
    private readonly resource: Attributes,
  ) {
    this.candidates = statusUrlCandidates(ctx.config);
    this.resolved = this.candidates.length === 1 ? this.candidates[0] : undefined;
    this.errors = ctx.metrics.counter('stub_status_errors_total', 'stub_status reads that failed, by reason (unreachable, timeout, http, parse)');
    this.resets = ctx.metrics.counter('counter_resets_total', 'times nginx counters went backwards (nginx restarted)');
  }

  get enabled(): boolean {
    return this.candidates.length > 0;
  }

  async collect(signal: AbortSignal): Promise<SourceHealth> {
    const ids = (this.ids ??= this.declareSeries());
    const urls = this.resolved !== undefined ? [this.resolved] : this.candidates;
    let failure: Exclude<FetchOutcome, { kind: 'page' }> | undefined;
    const tried: string[] = [];
    for (const url of urls) {
      const outcome = await this.fetchPage(url, signal);
      tried.push(url);
      if (outcome.kind === 'page') {
        this.resolved = url;
        this.write(ids, outcome.status);
        return { state: 'ok' };
      }
      this.errors.add(1, { reason: outcome.kind });
      // the first real failure explains best; a 404 on one path is expected while probing
      if (!failure || (failure.kind === 'http' && outcome.kind !== 'http')) failure = outcome;
      if (outcome.kind === 'unreachable' || outcome.kind === 'timeout') break; // same host:port for all paths
    }
    if (this.candidates.length > 1) this.resolved = undefined;
    this.ctx.sink.sample(ids.up, 0);
    const f = failure!;
    const where = tried.length > 1 ? ` (tried ${tried.join(', ')})` : '';
    return {
      state: 'error',
      code: f.kind === 'parse' ? ErrorCode.PARSE_FAILED : f.kind === 'http' && f.auth ? ErrorCode.AUTH_FAILED : ErrorCode.CONNECTION_FAILED,
      message: `${f.message}${where}; ${f.hint}`,
    };
  }

  private write(ids: NonNullable<StubStatusSource['ids']>, s: StubStatus): void {
    const sink = this.ctx.sink;
    const now = this.ctx.clock.now();
    sink.sample(ids.up, 1, now);
    sink.sample(ids.active, s.active, now);
    sink.sample(ids.reading, s.reading, now);
    sink.sample(ids.writing, s.writing, now);
    sink.sample(ids.waiting, s.waiting, now);
    const before = this.requests.resets + this.accepted.resets;
    const accepted = this.accepted.update(s.accepts, now);
    const handled = this.handled.update(s.handled, now);
    const dropped = this.dropped.update(Math.max(0, s.accepts - s.handled), now);
    const requests = this.requests.update(s.requests, now);
    if (this.requests.resets + this.accepted.resets > before) {
      this.resets.add(1);
      this.ctx.logger.info('nginx counters went backwards: nginx restarted; no rate this round', { instance: this.ctx.instanceId });
    }
    if (accepted !== undefined) sink.sample(ids.accepted, accepted, now);
    if (handled !== undefined) sink.sample(ids.handled, handled, now);
    if (dropped !== undefined) sink.sample(ids.dropped, dropped, now);
    if (requests !== undefined) sink.sample(ids.requests, requests, now);
  }

  private declareSeries(): NonNullable<StubStatusSource['ids']> {
    const r = this.resource;
    const sink = this.ctx.sink;
    return {
      up: sink.series(nginxSeries('nginx.up', r)),
      active: sink.series(nginxSeries('nginx.connections_current', r, { state: 'active' })),
      reading: sink.series(nginxSeries('nginx.connections_current', r, { state: 'reading' })),
      writing: sink.series(nginxSeries('nginx.connections_current', r, { state: 'writing' })),
      waiting: sink.series(nginxSeries('nginx.connections_current', r, { state: 'waiting' })),
      accepted: sink.series(nginxSeries('nginx.connections.accepted', r)),
      handled: sink.series(nginxSeries('nginx.connections.handled', r)),
      dropped: sink.series(nginxSeries('nginx.connections.dropped', r)),
      requests: sink.series(nginxSeries('nginx.requests', r)),
    };
  }

  private async fetchPage(url: string, signal: AbortSignal): Promise<FetchOutcome> {
    const timeoutMs = this.ctx.config.timeout;
    const timeout = AbortSignal.timeout(timeoutMs);
    let text: string;
    try {
      const res = await fetch(url, { signal: AbortSignal.any([signal, timeout]), headers: this.ctx.config.headers, redirect: 'manual' });
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => undefined);
        const hint =
          res.status === 404 ? `stub_status is not served there; ${ENABLE_HINT}` : res.status === 401 || res.status === 403 ? 'allow the agent in the status location (allow <agent ip>;) or set headers' : ENABLE_HINT;
        return { kind: 'http', message: `${url} answered HTTP ${res.status}`, hint, auth: res.status === 401 || res.status === 403 };
      }
      text = Buffer.from(await readBodyCapped(res, STUB_STATUS_MAX_BYTES + 1)).toString('latin1');
    } catch (e) {
      if (signal.aborted) return { kind: 'timeout', message: `reading ${url} was cut off: the collection interval ran out`, hint: 'lower timeout below the interval, or raise the interval' };
      if (timeout.aborted) return { kind: 'timeout', message: `no answer from ${url} within ${timeoutMs} ms`, hint: 'check that nginx is not overloaded, or raise timeout' };
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (e as Error).message;
      return {
        kind: 'unreachable',
        message: `cannot reach nginx at ${url} (${reason})`,
        hint: 'start nginx, or fix url/host/port so the agent can connect to it',
      };
    }
    const parsed = parseStubStatus(text);
    if (!parsed.ok) return { kind: 'parse', message: `${url} did not return a stub_status page: ${parsed.error}`, hint: `point url at the location that has "stub_status;"; ${ENABLE_HINT}` };
    return { kind: 'page', status: parsed.value };
  }
}

