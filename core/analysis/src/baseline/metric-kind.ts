/**
 * Domain knowledge by metric kind. The kind comes from the series descriptor when the collector
 * set it, else it is inferred from the metric name, unit and type. Each kind picks a value
 * transform for the model (and its inverse for the band shown to people):
 *
 * | kind           | model sees                         | why                                            |
 * |----------------|------------------------------------|------------------------------------------------|
 * | utilization    | value clamped to [0, bound]        | bounded by its limit; band never leaves bounds |
 * | saturation     | value (>= 0)                       | queued work                                    |
 * | memory         | bytes; plus time-to-exhaustion     | grows toward a limit                           |
 * | latency        | ln(value)                          | positive and right-skewed                      |
 * | error-ratio    | asin(sqrt(ratio))                  | variance-stabilised; small changes at 0 stay small |
 * | business-count | 2 sqrt(x + 3/8) (Anscombe)         | Poisson-like counts                            |
 * | throughput, availability, generic | value           |                                                |
 *
 * Counters (`type: counter`) are turned into per-second rates first, across resets.
 */
import type { MetricKind, SeriesDescriptor } from '@sextant/plugin-api';

/** Picks the kind of a series: the descriptor's own `kind`, else inferred from name, unit and type. */
export function inferMetricKind(d: Pick<SeriesDescriptor, 'metric' | 'unit' | 'type' | 'kind'>): MetricKind {
  if (d.kind) return d.kind;
  const name = d.metric.toLowerCase();
  const unit = d.unit;
  const has = (...words: string[]) => words.some((w) => name.includes(w));
  if (has('error', 'failure', 'fail_ratio') && (unit === '1' || unit === '%' || has('ratio', 'rate'))) return 'error-ratio';
  if (has('utilization', 'utilisation') || (has('cpu', 'disk.usage') && (unit === '1' || unit === '%'))) return 'utilization';
  if (has('pressure', 'saturation', 'throttl', 'queue', 'backlog', 'load_average', 'load.average')) return 'saturation';
  if (has('memory', '.mem.', 'rss', 'heap') && !unit.endsWith('/s') && unit !== '1' && unit !== '%') return 'memory';
  if (has('latency', 'duration', 'response_time', 'response.time', 'elapsed') || unit === 's' || unit === 'ms' || unit === 'us') return 'latency';
  if (has('order', 'signup', 'sign_up', 'checkout', 'purchase', 'revenue', 'cart', 'conversion', 'payment')) return 'business-count';
  if (has('availability', '.up', 'health') && (unit === '1' || unit === '')) return 'availability';
  if (d.type === 'rate' || d.type === 'counter' || unit.endsWith('/s') || has('requests', 'packets', 'bytes', 'connections', 'throughput')) return 'throughput';
  return 'generic';
}

/** Codes of the value transforms, stored per series slot in a Uint8Array. */
export const Transform = { identity: 0, clampUnit: 1, clampPercent: 2, log: 3, arcsineSqrt: 4, anscombe: 5, nonNegative: 6 } as const;
export type Transform = (typeof Transform)[keyof typeof Transform];

/** Smallest latency the log transform distinguishes (in the series' own unit). */
const LOG_FLOOR = 1e-9;

export function transformFor(kind: MetricKind, unit: string): Transform {
  switch (kind) {
    case 'utilization':
      return unit === '%' ? Transform.clampPercent : Transform.clampUnit;
    case 'latency':
      return Transform.log;
    case 'error-ratio':
      return unit === '%' ? Transform.identity : Transform.arcsineSqrt;
    case 'business-count':
      return Transform.anscombe;
    case 'saturation':
      return Transform.nonNegative;
    default:
      return Transform.identity;
  }
}

/**
 * Maps a value into the model's space. Returns NaN for a value the kind cannot have (a negative
 * latency or count): the caller counts it as dropped.
 */
export function forward(t: Transform, v: number): number {
  switch (t) {
    case Transform.clampUnit:
      return v < 0 ? 0 : v > 1 ? 1 : v;
    case Transform.clampPercent:
      return v < 0 ? 0 : v > 100 ? 100 : v;
    case Transform.log:
      return v < 0 ? Number.NaN : Math.log(Math.max(v, LOG_FLOOR));
    case Transform.arcsineSqrt:
      return v < 0 ? Number.NaN : Math.asin(Math.sqrt(v > 1 ? 1 : v));
    case Transform.anscombe:
      return v < 0 ? Number.NaN : 2 * Math.sqrt(v + 0.375);
    case Transform.nonNegative:
      return v < 0 ? Number.NaN : v;
    default:
      return v;
  }
}

/** Maps a model-space value (expected value, band edge) back to the series' unit, within its bounds. */
export function inverse(t: Transform, y: number): number {
  switch (t) {
    case Transform.clampUnit:
      return y < 0 ? 0 : y > 1 ? 1 : y;
    case Transform.clampPercent:
      return y < 0 ? 0 : y > 100 ? 100 : y;
    case Transform.log:
      return Math.exp(y);
    case Transform.arcsineSqrt: {
      const c = y < 0 ? 0 : y > Math.PI / 2 ? Math.PI / 2 : y;
      return Math.sin(c) ** 2;
    }
    case Transform.anscombe: {
      const h = y / 2;
      return Math.max(0, h * h - 0.375);
    }
    case Transform.nonNegative:
      return Math.max(0, y);
    default:
      return y;
  }
}
