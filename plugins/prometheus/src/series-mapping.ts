/**
 * How a scraped Prometheus sample becomes a Sextant series.
 *
 * - The metric name is the sample name as written (`http_request_duration_seconds_bucket`), so
 *   PromQL users find their names, and remote write sends them back unchanged.
 * - Point attributes are the sample's labels (empty values dropped, as Prometheus does), `le` and
 *   `quantile` included: a histogram stays one series per bucket plus `_sum` and `_count`, and a
 *   summary one series per quantile plus `_sum` and `_count`. Nothing is flattened into estimates.
 * - The Prometheus family type and the sample's role in it are recorded in the descriptor's
 *   description (`... [prometheus histogram bucket]`), and set the Sextant type: cumulative
 *   samples (counters, buckets, `_sum`, `_count`) are `counter`, everything else `gauge`.
 * - The unit is the OpenMetrics `# UNIT`, else derived from the base-unit suffix of the family name.
 * - Native histograms (protobuf pages only) become `<family>.count` and `<family>.sum` counters and
 *   `<family>.p50`-style gauges (role `estimate`), as OTLP exponential histograms do; a dot never
 *   occurs in a text-format name, so these cannot collide with scraped names.
 */
import type { MetricType } from '@sextant/plugin-api';
import type { FamilyType } from './exposition-parser.js';

/** What a sample is within its family. */
export type SampleRole = 'value' | 'bucket' | 'sum' | 'count' | 'created' | 'quantile' | 'info' | 'estimate';

export interface SampleFamily {
  /** Family name (`http_request_duration_seconds` for `..._bucket`). */
  readonly family: string;
  readonly familyType: FamilyType;
  readonly role: SampleRole;
}

const SUFFIXES: readonly (readonly [string, readonly FamilyType[], SampleRole])[] = [
  ['_bucket', ['histogram', 'gaugehistogram'], 'bucket'],
  ['_count', ['histogram', 'summary'], 'count'],
  ['_sum', ['histogram', 'summary'], 'sum'],
  ['_gcount', ['gaugehistogram'], 'count'],
  ['_gsum', ['gaugehistogram'], 'sum'],
  ['_total', ['counter'], 'value'],
  ['_created', ['counter', 'histogram', 'summary'], 'created'],
  ['_info', ['info'], 'info'],
];

/**
 * Finds the family of a sample from the `# TYPE` lines of the page. A sample whose family was
 * never declared is `untyped`.
 */
export function sampleFamily(name: string, hasQuantile: boolean, types: ReadonlyMap<string, FamilyType>): SampleFamily {
  const dot = name.lastIndexOf('.');
  if (dot > 0) {
    const family = name.slice(0, dot);
    const t = types.get(family);
    if (t === 'histogram' || t === 'gaugehistogram') {
      const suffix = name.slice(dot + 1);
      const role: SampleRole = suffix === 'count' ? 'count' : suffix === 'sum' ? 'sum' : 'estimate';
      return { family, familyType: t, role };
    }
  }
  for (const [suffix, familyTypes, role] of SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const family = name.slice(0, -suffix.length);
    const t = types.get(family);
    if (t !== undefined && familyTypes.includes(t)) return { family, familyType: t, role };
  }
  const t = types.get(name);
  if (t === 'summary') return { family: name, familyType: t, role: hasQuantile ? 'quantile' : 'value' };
  if (t !== undefined) return { family: name, familyType: t, role: 'value' };
  return { family: name, familyType: 'untyped', role: 'value' };
}

/** The Sextant type of a sample: cumulative ones are counters. */
export function sextantType(f: SampleFamily): MetricType {
  if (f.familyType === 'counter' && f.role === 'value') return 'counter';
  if (f.familyType === 'histogram' || f.familyType === 'summary') {
    if (f.role === 'bucket' || f.role === 'sum' || f.role === 'count') return 'counter';
  }
  return 'gauge';
}

const UNIT_SUFFIXES: readonly (readonly [string, string])[] = [
  ['_seconds', 's'],
  ['_milliseconds', 'ms'],
  ['_bytes', 'By'],
  ['_ratio', '1'],
  ['_percent', '%'],
  ['_celsius', 'Cel'],
  ['_volts', 'V'],
  ['_amperes', 'A'],
  ['_joules', 'J'],
  ['_grams', 'g'],
  ['_meters', 'm'],
  ['_hertz', 'Hz'],
];

/** UCUM unit for a family: the OpenMetrics unit when given, else from the name's suffix, else `1`. */
export function unitOf(family: string, declared: string | undefined): string {
  const base = family.endsWith('_total') ? family.slice(0, -'_total'.length) : family;
  const fromName = UNIT_SUFFIXES.find(([s]) => base.endsWith(s))?.[1];
  if (declared) return UNIT_SUFFIXES.find(([s]) => s === `_${declared}`)?.[1] ?? declared;
  return fromName ?? '1';
}

/** The description: HELP text and the recorded family type and role. */
export function describeSample(f: SampleFamily, help: string | undefined): string {
  const role = f.role === 'value' ? '' : ` ${f.role}`;
  const tag = `[prometheus ${f.familyType}${role}]`;
  return help ? `${help} ${tag}` : tag;
}
