/**
 * Quantiles estimated from histogram buckets: one copy for every place that turns buckets into
 * `p50`/`p90`/`p99` series (OTLP histograms in the protocol, Prometheus native histograms in the
 * scraper).
 */

/** Quantiles estimated from histogram buckets. */
export const HISTOGRAM_QUANTILES: readonly number[] = [0.5, 0.9, 0.99];

/**
 * Estimates quantile `q` (0..1) of values spread over buckets `(lowers[i], uppers[i]]` holding
 * `counts[i]` values each, by linear interpolation inside the bucket where the rank falls.
 * Infinite bucket edges are replaced by the observed `min`/`max` when known, else by the finite
 * edge. Returns NaN when the buckets hold no values.
 */
export function estimateQuantile(lowers: readonly number[], uppers: readonly number[], counts: readonly number[], q: number, min?: number, max?: number): number {
  let total = 0;
  for (const c of counts) total += c;
  if (!(total > 0)) return Number.NaN;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c <= 0) continue;
    if (seen + c >= rank) {
      let lo = lowers[i]!;
      let hi = uppers[i]!;
      if (!Number.isFinite(lo)) lo = min !== undefined && Number.isFinite(min) ? Math.min(min, hi) : hi;
      if (!Number.isFinite(hi)) hi = max !== undefined && Number.isFinite(max) ? Math.max(max, lo) : lo;
      if (min !== undefined && Number.isFinite(min) && lo < min && min <= hi) lo = min;
      if (max !== undefined && Number.isFinite(max) && hi > max && max >= lo) hi = max;
      return lo + ((hi - lo) * (rank - seen)) / c;
    }
    seen += c;
  }
  return Number.isFinite(uppers[uppers.length - 1]!) ? uppers[uppers.length - 1]! : (max ?? Number.NaN);
}
