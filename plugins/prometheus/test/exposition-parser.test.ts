import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExposition, parseSampleValue, parseSeriesText, type ExpositionFormat } from '../src/exposition-parser.js';

interface Parsed {
  types: [string, string][];
  helps: [string, string][];
  units: [string, string][];
  samples: { series: string; name: string; value: number; ts: number }[];
  errors: [number, string][];
}

function parseAll(text: string, format: ExpositionFormat = 'text'): Parsed & { eof: boolean } {
  const out: Parsed = { types: [], helps: [], units: [], samples: [], errors: [] };
  const s = parseExposition(text, format, {
    type: (n, t) => void out.types.push([n, t]),
    help: (n, t) => void out.helps.push([n, t]),
    unit: (n, t) => void out.units.push([n, t]),
    sample: (series, nameLength, value, ts) => void out.samples.push({ series, name: series.slice(0, nameLength), value, ts }),
    error: (line, message) => void out.errors.push([line, message]),
  });
  return { ...out, eof: s.sawEof };
}

describe('parseExposition (text 0.0.4)', () => {
  it('reads metadata, labels with escapes, timestamps and special values', () => {
    const page = [
      '# HELP http_requests_total Requests served.\\nSecond line \\\\ done',
      '# TYPE http_requests_total counter',
      'http_requests_total{method="post",code="200"} 1027 1395066363000',
      'http_requests_total{method="get",path="/a b}\\"c\\\\"} 3',
      '# a free comment',
      '',
      'metric_without_timestamp_and_labels 12.47',
      'something_weird{problem="division by zero"} +Inf -3982045',
      'nan_gauge NaN',
      'neg -Inf',
      'exp 1.5e+3',
      'trailing_comma{a="1",} 2\r',
      '  indented 4',
    ].join('\n');
    const p = parseAll(page);
    expect(p.errors).toEqual([]);
    expect(p.helps).toEqual([['http_requests_total', 'Requests served.\nSecond line \\ done']]);
    expect(p.types).toEqual([['http_requests_total', 'counter']]);
    expect(p.samples.map((s) => [s.series, s.value, s.ts])).toEqual([
      ['http_requests_total{method="post",code="200"}', 1027, 1395066363000],
      ['http_requests_total{method="get",path="/a b}\\"c\\\\"}', 3, NaN],
      ['metric_without_timestamp_and_labels', 12.47, NaN],
      ['something_weird{problem="division by zero"}', Infinity, -3982045],
      ['nan_gauge', NaN, NaN],
      ['neg', -Infinity, NaN],
      ['exp', 1500, NaN],
      ['trailing_comma{a="1",}', 2, NaN],
      ['indented', 4, NaN],
    ]);
    const series = parseSeriesText('http_requests_total{method="get",path="/a b}\\"c\\\\"}', 19);
    expect(series).toEqual({ name: 'http_requests_total', labels: [['method', 'get'], ['path', '/a b}"c\\']] });
  });

  it('skips malformed lines with their line number and keeps the rest of the page', () => {
    const page = ['good 1', 'bad{a="1" 2', '{x="1"} 3', 'novalue', 'v 12abc', 'v 1 notatime', 'v 1 2 3', 'good2{a="x"} 5', 'hex 0x10', '# TYPE t nonsense'].join('\n');
    const p = parseAll(page);
    expect(p.samples.map((s) => s.series)).toEqual(['good', 'good2{a="x"}']);
    expect(p.errors.map(([l]) => l)).toEqual([2, 3, 4, 5, 6, 7, 9, 10]);
    expect(p.errors[0][1]).toBe('label set is not closed with "}"');
  });

  it('reports bad label syntax only when the series text is parsed', () => {
    expect(parseSeriesText('m{a="1",a="2"}', 1)).toEqual({ error: 'label a appears twice' });
    expect(parseSeriesText('m{1a="1"}', 1)).toMatchObject({ error: expect.stringContaining('invalid label name') });
    expect(parseSeriesText('m{a=1}', 1)).toEqual({ error: 'value of label a must be quoted' });
    expect(parseSeriesText('m{a="\\x"}', 1)).toEqual({ error: 'invalid escape in value of label a' });
    expect(parseSeriesText('m{}', 1)).toEqual({ name: 'm', labels: [] });
  });
});

describe('parseExposition (OpenMetrics 1.0)', () => {
  it('reads UNIT, second timestamps, exemplars and EOF', () => {
    const page = [
      '# TYPE foo_seconds histogram',
      '# UNIT foo_seconds seconds',
      '# HELP foo_seconds Latency.',
      'foo_seconds_bucket{le="0.1"} 8 # {trace_id="abc"} 0.05 1520879607.789',
      'foo_seconds_bucket{le="+Inf"} 17',
      'foo_seconds_count 17 1520879607.789',
      'foo_seconds_sum 324.8',
      '# EOF',
    ].join('\n');
    const p = parseAll(page, 'openmetrics');
    expect(p.errors).toEqual([]);
    expect(p.eof).toBe(true);
    expect(p.units).toEqual([['foo_seconds', 'seconds']]);
    expect(p.samples.map((s) => [s.name, s.value, s.ts])).toEqual([
      ['foo_seconds_bucket', 8, NaN],
      ['foo_seconds_bucket', 17, NaN],
      ['foo_seconds_count', 17, 1520879607789],
      ['foo_seconds_sum', 324.8, NaN],
    ]);
    expect(parseAll('a 1\n# EOF\nb 2\n', 'openmetrics').errors).toEqual([[3, 'content after "# EOF"']]);
  });
});

describe('parseSampleValue', () => {
  it('accepts Go float spellings and rejects JavaScript-only ones', () => {
    expect(['1', '-1.5', '.5', '1e-3', '+2', 'NaN', 'nan', '+Inf', '-inf', 'Inf'].map(parseSampleValue)).toEqual([1, -1.5, 0.5, 0.001, 2, NaN, NaN, Infinity, -Infinity, Infinity]);
    for (const bad of ['', 'Infinity', '0x10', '0b1', '1,5', 'one', '-']) expect(parseSampleValue(bad), bad).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// fuzz

const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/);
const metricName = fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,12}$/);
const labelValue = fc.string({ maxLength: 12, unit: fc.constantFrom('a', 'Z', ' ', '"', '\\', '\n', '}', '{', ',', '=', '#', 'é', '🙂') });
const value = fc.oneof(fc.double({ noNaN: true }), fc.constant(NaN), fc.integer());

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

describe('fuzz', () => {
  it('round-trips any well-formed page: every series, label and value comes back exactly', () => {
    const sample = fc.record({
      name: metricName,
      labels: fc.uniqueArray(fc.tuple(labelName, labelValue), { maxLength: 4, selector: ([k]) => k }),
      value,
      ts: fc.option(fc.integer({ min: -1e12, max: 1e13 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 20 }), (samples) => {
        const text = samples
          .map((s) => `${s.name}${s.labels.length ? `{${s.labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : ''} ${formatValue(s.value)}${s.ts === undefined ? '' : ` ${s.ts}`}`)
          .join('\n');
        const p = parseAll(text);
        expect(p.errors).toEqual([]);
        expect(p.samples.length).toBe(samples.length);
        p.samples.forEach((got, i) => {
          const want = samples[i];
          expect(Object.is(got.value, want.value) || got.value === want.value).toBe(true);
          expect(got.ts).toBe(want.ts ?? NaN);
          expect(parseSeriesText(got.series, got.name.length)).toEqual({ name: want.name, labels: want.labels });
        });
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary input, and every non-empty line is either a sample, metadata or an error', () => {
    const chars = fc.constantFrom('a', 'b', '_', '{', '}', '"', '\\', '=', ',', ' ', '\t', '\n', '#', '1', '.', 'e', '-', '+', 'I', 'n', 'f', 'N', 'é');
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 200 }), fc.constantFrom<ExpositionFormat>('text', 'openmetrics'), (text, format) => {
        const p = parseAll(text, format);
        for (const s of p.samples) {
          const r = parseSeriesText(s.series, s.name.length);
          expect(typeof r).toBe('object');
        }
        const nonEmpty = text.split('\n').filter((l) => l.trim() !== '' && !/^[ \t]*#/.test(l)).length;
        expect(p.samples.length + p.errors.filter(([, m]) => !m.startsWith('#') && !m.startsWith('OpenMetrics') && !m.includes('# EOF')).length).toBe(nonEmpty);
      }),
      { numRuns: 1000 },
    );
  });
});
