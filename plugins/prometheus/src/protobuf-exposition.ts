/**
 * The Prometheus protobuf exposition format (`application/vnd.google.protobuf;
 * proto=io.prometheus.client.MetricFamily; encoding=delimited`): a sequence of varint-length-prefixed
 * `MetricFamily` messages, decoded with code generated from our own `proto/.../metrics.proto`.
 *
 * It feeds the same {@link ExpositionVisitor} as the text parser, with the series text a text page
 * would have had (`name{label="value",le="0.5"}`), so keep/drop, limits, honourLabels, the series
 * cache and the Sextant mapping are one code path for every format:
 *
 * - counter, gauge, untyped -> one sample named like the family;
 * - summary -> `name{quantile="q"}` per quantile, `name_sum`, `name_count`;
 * - classic histogram buckets -> `name_bucket{le="..."}` (cumulative, `+Inf` added when missing),
 *   `name_sum`, `name_count` (gauge histograms: `_gsum`, `_gcount`);
 * - **native histograms** (sparse exponential buckets) are mapped as the OTLP receiver maps OTLP
 *   exponential histograms: `name.count` and `name.sum` counters and `name.p50`, `.p90`, `.p99`
 *   gauges estimated inside the buckets over the interval since the previous scrape (bucket
 *   increases; a lower schema merges the previous buckets first, a count that went down is a reset
 *   and the new totals are used). A histogram with both kinds of buckets gives both.
 *
 * A message that cannot be decoded ends the page (a delimited stream cannot resynchronise): what was
 * read before is kept and the error is reported with the family's 1-based position as "line".
 */
import { BinaryReader } from '@bufbuild/protobuf/wire';
import { HISTOGRAM_QUANTILES, estimateQuantile } from '@sextant/plugin-kit';
import type { ExpositionVisitor, FamilyType, ParseSummary } from './exposition-parser.js';
import { MetricType, MetricFamily, type BucketSpan, type Histogram, type LabelPair } from './gen/io/prometheus/client/metrics.js';

/** The content type asked for first and recognised in answers. */
export const PROTOBUF_CONTENT_TYPE = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';

/** True for a `Content-Type` that announces delimited MetricFamily messages. */
export function isProtobufExposition(contentType: string): boolean {
  const ct = contentType.toLowerCase();
  return ct.startsWith('application/vnd.google.protobuf') && ct.includes('io.prometheus.client.metricfamily') && ct.includes('encoding=delimited');
}

/** Most buckets a native histogram may declare (Prometheus producers default to at most 160). */
export const MAX_NATIVE_BUCKETS = 4096;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

const FAMILY_TYPES: Readonly<Record<number, FamilyType>> = {
  [MetricType.COUNTER]: 'counter',
  [MetricType.GAUGE]: 'gauge',
  [MetricType.SUMMARY]: 'summary',
  [MetricType.UNTYPED]: 'untyped',
  [MetricType.HISTOGRAM]: 'histogram',
  [MetricType.GAUGE_HISTOGRAM]: 'gaugehistogram',
};

/** Buckets of one native histogram at one scrape: signed bucket index -> count, plus the zero bucket. */
interface NativeBuckets {
  readonly schema: number;
  readonly positive: Map<number, number>;
  readonly negative: Map<number, number>;
  readonly zero: number;
}

/** `"` `\` and newline escaped as the text format writes label values. */
function escapeLabelValue(v: string): string {
  return /["\\\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

/**
 * A bound as Go's `strconv.FormatFloat(v, 'g', -1, 64)` writes it (`+Inf`, `0.25`, `1e+06`,
 * `1e-05`): the spelling client_golang uses for `le` and `quantile` in its text pages, so a target
 * scraped as text one day and as protobuf the next keeps the same series.
 */
export function formatBound(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mantissa, exponent] = v.toExponential().split('e');
  const exp = Number(exponent);
  if (exp >= -4 && exp < 6) return String(v);
  return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

function labelText(labels: readonly LabelPair[], extraName?: string, extraValue?: string): string {
  if (labels.length === 0 && extraName === undefined) return '';
  let out = '{';
  for (let i = 0; i < labels.length; i++) {
    if (i > 0) out += ',';
    out += `${labels[i].name}="${escapeLabelValue(labels[i].value)}"`;
  }
  if (extraName !== undefined) out += `${labels.length > 0 ? ',' : ''}${extraName}="${extraValue}"`;
  return `${out}}`;
}

/** Whether a histogram carries native buckets (the rule producers and Prometheus use). */
function isNative(h: Histogram): boolean {
  return h.positiveSpan.length > 0 || h.negativeSpan.length > 0 || h.zeroThreshold > 0 || h.zeroCount > 0 || h.zeroCountFloat > 0;
}

/** Expands spans + deltas (integer histograms) or spans + absolute counts (float ones) into index -> count. */
function expandBuckets(spans: readonly BucketSpan[], deltas: readonly number[], counts: readonly number[]): Map<number, number> | string {
  const out = new Map<number, number>();
  const float = counts.length > 0;
  const values = float ? counts : deltas;
  let total = 0;
  for (const s of spans) total += s.length;
  if (total > MAX_NATIVE_BUCKETS) return `native histogram declares ${total} buckets (more than ${MAX_NATIVE_BUCKETS})`;
  if (total !== values.length) return `native histogram spans cover ${total} buckets but ${values.length} counts were sent`;
  let index = 0;
  let k = 0;
  let running = 0;
  for (let si = 0; si < spans.length; si++) {
    index += spans[si].offset;
    for (let n = 0; n < spans[si].length; n++, index++, k++) {
      running = float ? values[k] : running + values[k];
      if (!(running >= 0) || !Number.isFinite(running)) return 'native histogram has a negative or non-finite bucket count';
      if (running > 0) out.set(index, running);
    }
  }
  return out;
}

/** `previous` (at a schema >= `schema`) with its buckets merged down to `schema`. */
function downscale(previous: Map<number, number>, from: number, to: number): Map<number, number> {
  if (from === to) return previous;
  const factor = 2 ** (from - to);
  const out = new Map<number, number>();
  // bucket i covers (base^(i-1), base^i]: at a schema lower by d it falls in ceil(i / 2^d)
  for (const [i, c] of previous) {
    const j = Math.ceil(i / factor);
    out.set(j, (out.get(j) ?? 0) + c);
  }
  return out;
}

/** Per-bucket increase, or undefined after a reset (a count went down or the schema went up). */
function increase(current: NativeBuckets, previous: NativeBuckets | undefined): NativeBuckets | undefined {
  if (previous === undefined || previous.schema < current.schema) return undefined;
  const diff = (cur: Map<number, number>, prev: Map<number, number>): Map<number, number> | undefined => {
    const out = new Map(cur);
    for (const [i, c] of downscale(prev, previous.schema, current.schema)) {
      const d = (out.get(i) ?? 0) - c;
      if (d < 0) return undefined;
      out.set(i, d);
    }
    return out;
  };
  const positive = diff(current.positive, previous.positive);
  const negative = diff(current.negative, previous.negative);
  const zero = current.zero - previous.zero;
  if (!positive || !negative || zero < 0) return undefined;
  return { schema: current.schema, positive, negative, zero };
}

/** Bucket bounds and counts in ascending order, for {@link estimateQuantile}. */
function boundsOf(b: NativeBuckets): { lowers: number[]; uppers: number[]; counts: number[] } {
  const base = 2 ** (2 ** -b.schema);
  const lowers: number[] = [];
  const uppers: number[] = [];
  const counts: number[] = [];
  for (const i of [...b.negative.keys()].sort((x, y) => y - x)) {
    lowers.push(-(base ** i));
    uppers.push(-(base ** (i - 1)));
    counts.push(b.negative.get(i)!);
  }
  if (b.zero > 0) {
    lowers.push(0);
    uppers.push(0);
    counts.push(b.zero);
  }
  for (const i of [...b.positive.keys()].sort((x, y) => x - y)) {
    lowers.push(base ** (i - 1));
    uppers.push(base ** i);
    counts.push(b.positive.get(i)!);
  }
  return { lowers, uppers, counts };
}

/**
 * Reads protobuf pages of one target. Keeps the previous buckets of each native histogram (keyed by
 * its series text), replaced at every page, so quantiles describe the last scrape interval.
 */
export class ProtobufExpositionReader {
  private previousNative = new Map<string, NativeBuckets>();

  parse(body: Uint8Array, visitor: ExpositionVisitor): ParseSummary {
    const reader = new BinaryReader(body);
    const seenNative = new Map<string, NativeBuckets>();
    let samples = 0;
    let errors = 0;
    let stopped = false;
    let familyNo = 0;
    const emit = (series: string, nameLength: number, value: number, ts: number): boolean => {
      samples++;
      if (visitor.sample(series, nameLength, value, ts) === false) stopped = true;
      return !stopped;
    };
    try {
      while (reader.pos < reader.len && !stopped) {
        familyNo++;
        const length = reader.uint32();
        if (length > reader.len - reader.pos) throw new Error(`message of ${length} bytes, only ${reader.len - reader.pos} left (truncated page?)`);
        const family = MetricFamily.decode(reader, length);
        const name = family.name;
        const type = FAMILY_TYPES[family.type];
        if (!METRIC_NAME.test(name) || type === undefined) {
          errors++;
          visitor.error(familyNo, !METRIC_NAME.test(name) ? `invalid metric family name ${JSON.stringify(name.slice(0, 80))}` : `unknown metric type ${family.type} of ${name}`);
          continue;
        }
        visitor.type(name, type);
        if (family.help) visitor.help(name, family.help);
        if (family.unit) visitor.unit(name, family.unit);
        for (const m of family.metric) {
          if (stopped) break;
          const ts = m.timestampMs !== 0 ? m.timestampMs : NaN;
          const labels = labelText(m.label);
          switch (family.type) {
            case MetricType.COUNTER:
              emit(`${name}${labels}`, name.length, m.counter?.value ?? NaN, ts);
              break;
            case MetricType.GAUGE:
              emit(`${name}${labels}`, name.length, m.gauge?.value ?? NaN, ts);
              break;
            case MetricType.UNTYPED:
              emit(`${name}${labels}`, name.length, m.untyped?.value ?? NaN, ts);
              break;
            case MetricType.SUMMARY: {
              const s = m.summary;
              if (!s) break;
              for (const q of s.quantile) if (!emit(`${name}${labelText(m.label, 'quantile', formatBound(q.quantile))}`, name.length, q.value, ts)) break;
              emit(`${name}_sum${labels}`, name.length + 4, s.sampleSum, ts);
              emit(`${name}_count${labels}`, name.length + 6, s.sampleCount, ts);
              break;
            }
            default: {
              const h = m.histogram;
              if (!h) break;
              const gauge = family.type === MetricType.GAUGE_HISTOGRAM;
              const count = h.sampleCountFloat > 0 ? h.sampleCountFloat : h.sampleCount;
              if (h.bucket.length > 0) {
                let sawInf = false;
                for (const b of h.bucket) {
                  sawInf ||= b.upperBound === Infinity;
                  const c = b.cumulativeCountFloat > 0 ? b.cumulativeCountFloat : b.cumulativeCount;
                  if (!emit(`${name}_bucket${labelText(m.label, 'le', formatBound(b.upperBound))}`, name.length + 7, c, ts)) break;
                }
                if (!sawInf) emit(`${name}_bucket${labelText(m.label, 'le', '+Inf')}`, name.length + 7, count, ts);
                emit(`${name}${gauge ? '_gsum' : '_sum'}${labels}`, name.length + (gauge ? 5 : 4), h.sampleSum, ts);
                emit(`${name}${gauge ? '_gcount' : '_count'}${labels}`, name.length + (gauge ? 7 : 6), count, ts);
              }
              if (isNative(h)) {
                const problem = this.native(name, labels, h, count, ts, seenNative, emit);
                if (problem !== undefined) {
                  errors++;
                  visitor.error(familyNo, `${name}${labels}: ${problem}`);
                }
              }
            }
          }
        }
      }
    } catch (e) {
      errors++;
      visitor.error(familyNo, `cannot decode protobuf MetricFamily: ${(e as Error).message}`);
    }
    this.previousNative = seenNative;
    return { samples, errors, stopped, sawEof: true };
  }

  /** Writes the native part of a histogram; returns a problem instead of throwing. */
  private native(
    name: string,
    labels: string,
    h: Histogram,
    count: number,
    ts: number,
    seen: Map<string, NativeBuckets>,
    emit: (series: string, nameLength: number, value: number, ts: number) => boolean,
  ): string | undefined {
    if (h.schema < -4 || h.schema > 8) return `native histogram schema ${h.schema} is outside -4..8`;
    const positive = expandBuckets(h.positiveSpan, h.positiveDelta, h.positiveCount);
    if (typeof positive === 'string') return positive;
    const negative = expandBuckets(h.negativeSpan, h.negativeDelta, h.negativeCount);
    if (typeof negative === 'string') return negative;
    const current: NativeBuckets = { schema: h.schema, positive, negative, zero: h.zeroCountFloat > 0 ? h.zeroCountFloat : h.zeroCount };
    const key = `${name}${labels}`;
    seen.set(key, current);
    emit(`${name}.count${labels}`, name.length + 6, count, ts);
    emit(`${name}.sum${labels}`, name.length + 4, h.sampleSum, ts);
    const interval = increase(current, this.previousNative.get(key)) ?? current;
    const { lowers, uppers, counts } = boundsOf(interval);
    for (const q of HISTOGRAM_QUANTILES) {
      const estimate = estimateQuantile(lowers, uppers, counts, q);
      if (Number.isNaN(estimate)) continue;
      const suffix = `.p${String(Math.round(q * 100 * 1000) / 1000).replace('.', '_')}`;
      if (!emit(`${name}${suffix}${labels}`, name.length + suffix.length, estimate, ts)) break;
    }
    return undefined;
  }
}
