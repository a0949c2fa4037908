import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { needBinary } from '@sextant/testkit';
import { SelfTelemetry } from '../src/telemetry/self-telemetry.js';

/** Runs Prometheus's own exposition linter; returns its exit code and output. */
function promtool(bin: string, text: string): { code: number | null; out: string } {
  const r = spawnSync(bin, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('self-telemetry exposition', () => {
  it('escapes HELP and label values so Prometheus parses them back unchanged', async (ctx) => {
    const bin = needBinary(ctx, 'promtool', 'apt-get install prometheus');
    const t = new SelfTelemetry();
    const nasty = 'a"b\\c\nd';
    t.add('sextant_samples_received_total', 'ignored: the table has the help', 5, { source: nasty });
    t.add('sextant_plugin_requests_total', 'Requests with a \\ backslash\nand a newline', 2, { plugin: 'p', instance: 'i', 'http.method': 'GET' });
    t.set('sextant_plugin_status', '', 1, { plugin: 'p', instance: 'i', state: 'ok' });
    t.observe('sextant_collect_duration_seconds', '', 0.02, { plugin: 'p' });
    const text = await t.renderPrometheus();
    expect(text).toContain('sextant_samples_received_total{source="a\\"b\\\\c\\nd"} 5');
    expect(text).toContain('# HELP sextant_plugin_requests_total Requests with a \\\\ backslash\\nand a newline');
    expect(text).toContain('sextant_plugin_requests_total{http_method="GET",instance="i",plugin="p"} 2');
    expect(text).toContain('sextant_collect_duration_seconds_bucket{le="0.05",plugin="p"} 1');
    expect(text).toContain('sextant_collect_duration_seconds_count{plugin="p"} 1');
    const lint = promtool(bin, text);
    expect(lint.out).not.toMatch(/error/i);
    expect(lint.code).toBe(0);
  });

  it('refuses a name used as two types with a clear error, and the exposition stays valid', async (ctx) => {
    const bin = needBinary(ctx, 'promtool', 'apt-get install prometheus');
    const t = new SelfTelemetry();
    t.add('sextant_plugin_things_total', 'Things', 1, { plugin: 'p' });
    expect(() => t.set('sextant_plugin_things_total', 'Things', 3, { plugin: 'p' })).toThrow(/sextant_plugin_things_total is a counter; it cannot also be used as a gauge/);
    expect(() => t.add('sextant_series', '', 1)).toThrow(/listed as a gauge/);
    expect(() => t.add('bad name!', '', 1)).toThrow(/invalid metric name/);
    expect(t.sum('sextant_telemetry_refused_total')).toBe(3);
    const text = await t.renderPrometheus();
    expect(text.match(/^# TYPE sextant_plugin_things_total /gm)).toHaveLength(1);
    expect(text).toContain('sextant_telemetry_refused_total{metric="sextant_plugin_things_total"} 1');
    expect(promtool(bin, text).code).toBe(0);
  });

  it('a family gains a label name after first use without losing values', async () => {
    const t = new SelfTelemetry();
    t.add('sextant_plugin_lines_total', 'Lines', 2, { plugin: 'p', instance: 'i' });
    t.add('sextant_plugin_lines_total', 'Lines', 3, { plugin: 'p', instance: 'i', kind: 'x' });
    expect(t.sum('sextant_plugin_lines_total')).toBe(5);
    expect(t.value('sextant_plugin_lines_total', { plugin: 'p', instance: 'i' })).toBe(2);
    const text = await t.renderPrometheus();
    expect(text).toContain('sextant_plugin_lines_total{instance="i",plugin="p"} 2');
    expect(text).toContain('sextant_plugin_lines_total{instance="i",kind="x",plugin="p"} 3');
  });

  it('removeSeries forgets counters, gauges and histograms of a removed instance', async () => {
    const t = new SelfTelemetry();
    t.add('sextant_plugin_failures_total', '', 1, { plugin: 'p', instance: 'gone' });
    t.add('sextant_plugin_failures_total', '', 1, { plugin: 'p', instance: 'kept' });
    t.set('sextant_plugin_status', '', 1, { plugin: 'p', instance: 'gone', state: 'ok' });
    t.observe('sextant_plugin_round_seconds', 'Rounds', 0.1, { plugin: 'p', instance: 'gone' });
    t.removeSeries({ instance: 'gone' });
    const text = await t.renderPrometheus();
    expect(text).not.toMatch(/instance="gone"/);
    expect(text).toContain('sextant_plugin_failures_total{instance="kept",plugin="p"} 1');
    expect(t.sum('sextant_plugin_failures_total')).toBe(1);
  });

  it('ignores negative, NaN and infinite counter increments instead of corrupting the total', () => {
    const t = new SelfTelemetry();
    t.add('sextant_events_total', '', 2, { type: 'deploy' });
    for (const v of [-1, Number.NaN, Infinity]) t.add('sextant_events_total', '', v, { type: 'deploy' });
    t.observe('sextant_pipeline_latency_seconds', '', Number.NaN);
    expect(t.value('sextant_events_total', { type: 'deploy' })).toBe(2);
  });
});
