/**
 * Folds parsed access-log lines into one round's figures: requests by status class, bytes, latency
 * quantiles, and per-URL-pattern requests, errors and p90 for the top-N lists.
 *
 * Memory is bounded whatever the log holds: at most `maxRoutes` distinct patterns are tracked per
 * round (later ones are counted under {@link OTHER_ROUTES}), each with a small fixed histogram.
 * Per line the work is one parse, one URL collapse and one Map lookup; no object is created per line
 * except the pattern string.
 */
import { LatencyHistogram } from './latency-histogram.js';
import { ParsedLogLine, type LogLineParser } from './log-format.js';
import { INVALID_TEMPLATE, urlTemplate } from './url-template.js';

/** The pattern under which requests beyond `maxRoutes` distinct patterns are counted. */
export const OTHER_ROUTES = '{other}';

export interface AccessLogAggregatorOptions {
  /** Length of each top-N list. */
  readonly topN: number;
  /** Distinct URL patterns tracked per round. */
  readonly maxRoutes: number;
  /** Responses with a status at or above this count as errors for the per-pattern figures. */
  readonly errorStatus: number;
}

export interface RouteFigures {
  readonly template: string;
  readonly requests: number;
  readonly errors: number;
  /** 90th percentile of $request_time in seconds; NaN when the format has no $request_time. */
  readonly p90: number;
}

export interface Quantiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly count: number;
}

/** What one round of lines added up to. Counts are plain totals; the caller turns them into rates. */
export interface AccessLogRound {
  /** Lines that parsed. */
  readonly lines: number;
  /** Lines that did not match the format (or had out-of-range values). */
  readonly malformed: number;
  /** Why the last malformed line was refused. */
  readonly lastError: string;
  /** Requests per status class: index 0 = 1xx ... 4 = 5xx. */
  readonly statusClasses: Float64Array;
  /** Body bytes sent; NaN when the format logs no byte count. */
  readonly bytes: number;
  readonly duration: Quantiles | undefined;
  readonly upstream: Quantiles | undefined;
  /** Top-N patterns by p90, slowest first (only when the format has $request_time). */
  readonly slowest: readonly RouteFigures[];
  /** Top-N patterns by error count, most first; patterns without errors are left out. */
  readonly erroring: readonly RouteFigures[];
  /** Requests whose pattern did not fit in `maxRoutes`. */
  readonly overflowRequests: number;
}

export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export class AccessLogAggregator {
  private readonly line = new ParsedLogLine();
  private lines = 0;
  private malformed = 0;
  private lastError = '';
  private readonly statusClasses = new Float64Array(5);
  private bytes = 0;
  private readonly duration = new LatencyHistogram(0.01);
  private readonly upstream = new LatencyHistogram(0.01);
  private readonly routeIndex = new Map<string, number>();
  private readonly routeNames: string[] = [];
  private readonly routeRequests: Float64Array;
  private readonly routeErrors: Float64Array;
  private readonly routeDurations: LatencyHistogram[] = [];
  private overflowRequests = 0;

  constructor(
    private readonly parser: LogLineParser,
    private readonly options: AccessLogAggregatorOptions,
  ) {
    this.routeRequests = new Float64Array(options.maxRoutes);
    this.routeErrors = new Float64Array(options.maxRoutes);
  }

  /** Parses and counts `text[start, end)`. Returns false (and counts it) when the line is malformed. */
  consume(text: string, start: number, end: number): boolean {
    const l = this.line;
    if (!this.parser.parse(text, start, end, l)) {
      this.malformed++;
      this.lastError = l.error;
      return false;
    }
    this.lines++;
    this.statusClasses[((l.status / 100) | 0) - 1]++;
    if (l.bytes === l.bytes) this.bytes += l.bytes;
    this.duration.record(l.requestTime);
    this.upstream.record(l.upstreamTime);
    if (!this.parser.hasPath) return true;
    const template = l.pathStart >= 0 ? urlTemplate(text, l.pathStart, l.pathEnd) : INVALID_TEMPLATE;
    let r = this.routeIndex.get(template);
    if (r === undefined) {
      if (this.routeNames.length >= this.options.maxRoutes) {
        this.overflowRequests++;
        return true;
      }
      r = this.routeNames.length;
      // a fresh copy, so the Map does not keep the whole read chunk alive through a sliced string
      const own = Buffer.from(template, 'utf8').toString('utf8');
      this.routeNames.push(own);
      this.routeIndex.set(own, r);
      this.routeDurations[r] ??= new LatencyHistogram(0.05, 1e-4);
    }
    this.routeRequests[r]++;
    if (l.status >= this.options.errorStatus) this.routeErrors[r]++;
    this.routeDurations[r].record(l.requestTime);
    return true;
  }

  /** Returns this round's figures and starts a new round. */
  takeRound(): AccessLogRound {
    const routes: RouteFigures[] = [];
    for (let r = 0; r < this.routeNames.length; r++) {
      routes.push({ template: this.routeNames[r], requests: this.routeRequests[r], errors: this.routeErrors[r], p90: this.routeDurations[r].quantile(0.9) });
    }
    const n = this.options.topN;
    const slowest = this.parser.hasRequestTime
      ? routes.filter((x) => x.p90 === x.p90).sort((a, b) => b.p90 - a.p90 || b.requests - a.requests || cmp(a.template, b.template)).slice(0, n)
      : [];
    const erroring = routes
      .filter((x) => x.errors > 0)
      .sort((a, b) => b.errors - a.errors || b.requests - a.requests || cmp(a.template, b.template))
      .slice(0, n);
    const round: AccessLogRound = {
      lines: this.lines,
      malformed: this.malformed,
      lastError: this.lastError,
      statusClasses: this.statusClasses.slice(),
      bytes: this.parser.hasBytes ? this.bytes : Number.NaN,
      duration: quantiles(this.duration),
      upstream: quantiles(this.upstream),
      slowest,
      erroring,
      overflowRequests: this.overflowRequests,
    };
    this.reset();
    return round;
  }

  private reset(): void {
    this.lines = 0;
    this.malformed = 0;
    this.lastError = '';
    this.statusClasses.fill(0);
    this.bytes = 0;
    this.duration.reset();
    this.upstream.reset();
    for (let r = 0; r < this.routeNames.length; r++) this.routeDurations[r].reset();
    this.routeRequests.fill(0, 0, this.routeNames.length);
    this.routeErrors.fill(0, 0, this.routeNames.length);
    this.routeNames.length = 0;
    this.routeIndex.clear();
    this.overflowRequests = 0;
  }
}

function quantiles(h: LatencyHistogram): Quantiles | undefined {
  if (h.count === 0) return undefined;
  return { p50: h.quantile(0.5), p90: h.quantile(0.9), p99: h.quantile(0.99), count: h.count };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
