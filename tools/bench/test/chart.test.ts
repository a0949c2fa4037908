import { describe, expect, it } from 'vitest';
import { peerChartSvg } from '../src/chart.ts';

describe('peer chart', () => {
  const figures = (rss: number, cpu: number) => ({ cpuSeconds: 1, cpuPercentOfCore: cpu, cpuSecondsPerMillionSamples: 1, rssMiBEnd: rss, rssMiBPeak: rss, samplesIngested: 1 });

  it('draws one bar per measured system in both panels, with its figure', () => {
    const svg = peerChartSvg({ machine: { date: '2026-12-03T16:55:02Z' }, load: { series: 10000, seconds: 60, analysis: true }, results: { sextant: figures(199.9, 4.1), prometheus: figures(229.6, 8.5) } });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<rect x=/g)).toHaveLength(4);
    expect(svg).toContain('200 MiB');
    expect(svg).toContain('8.5 %');
    expect(svg).toContain('10000 series at 1 sample/s, 60 s window, with analysis; 2026-12-03');
  });

  it('names a skipped peer with its reason instead of drawing it', () => {
    const svg = peerChartSvg({ results: { sextant: figures(100, 1), victoriametrics: { skipped: 'victoria-metrics not found on PATH' } } });
    expect(svg.match(/<rect x=/g)).toHaveLength(2);
    expect(svg).toContain('victoriametrics: victoria-metrics not found on PATH');
  });
});
