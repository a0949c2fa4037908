#!/usr/bin/env node
/**
 * A small SVG chart of one peer benchmark run (`--peers` JSON): RSS at the end and CPU % of one
 * core, one bar per system, so the README and docs/ show the figures the JSON holds.
 *
 *   node tools/bench/dist/main.js --peers > peers.json
 *   node tools/bench/dist/chart.js peers.json docs/bench-peers.svg
 *
 * Only systems with figures get a bar; a skipped or failed peer is named under the chart with its
 * reason. No library: two bar panels are a few rectangles.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Figures {
  readonly cpuPercentOfCore: number;
  readonly rssMiBEnd: number;
  readonly rssMiBPeak: number;
}

interface PeerReport {
  readonly machine?: { readonly date?: string };
  readonly load?: { readonly series?: number; readonly seconds?: number; readonly analysis?: boolean };
  readonly results: Record<string, Figures | { skipped: string } | { error: string }>;
}

const COLORS: Record<string, string> = { sextant: '#2b6cb0', prometheus: '#e6522c', victoriametrics: '#6b46c1' };

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

function panel(title: string, unit: string, bars: { name: string; value: number }[], x0: number, width: number, height: number): string {
  const max = Math.max(...bars.map((b) => b.value), 1e-9) * 1.15;
  const top = 40;
  const bottom = height - 48;
  const slot = width / Math.max(bars.length, 1);
  const parts = [`<text x="${x0 + width / 2}" y="20" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`];
  parts.push(`<line x1="${x0}" y1="${bottom}" x2="${x0 + width}" y2="${bottom}" stroke="#999"/>`);
  bars.forEach((b, i) => {
    const h = ((bottom - top) * b.value) / max;
    const x = x0 + i * slot + slot * 0.2;
    const w = slot * 0.6;
    parts.push(`<rect x="${x.toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[b.name] ?? '#718096'}"/>`);
    parts.push(`<text x="${(x + w / 2).toFixed(1)}" y="${(bottom - h - 5).toFixed(1)}" text-anchor="middle">${b.value.toFixed(b.value < 10 ? 1 : 0)} ${escapeXml(unit)}</text>`);
    parts.push(`<text x="${(x + w / 2).toFixed(1)}" y="${bottom + 16}" text-anchor="middle">${escapeXml(b.name)}</text>`);
  });
  return parts.join('\n');
}

/** The SVG text for one `--peers` report. */
export function peerChartSvg(report: PeerReport): string {
  const measured = Object.entries(report.results).filter((e): e is [string, Figures] => 'rssMiBEnd' in e[1]);
  const missing = Object.entries(report.results).filter(([, r]) => !('rssMiBEnd' in r)).map(([name, r]) => `${name}: ${'skipped' in r ? r.skipped : (r as { error: string }).error}`);
  const width = 640;
  const height = 260;
  const load = report.load ?? {};
  const caption = `${load.series ?? '?'} series at 1 sample/s, ${load.seconds ?? '?'} s window, ${load.analysis === false ? 'ingest only' : 'with analysis'}; ${report.machine?.date?.slice(0, 10) ?? ''}`;
  const body = [
    panel('RSS at the end (MiB, lower is better)', 'MiB', measured.map(([name, r]) => ({ name, value: r.rssMiBEnd })), 10, width / 2 - 20, height),
    panel('CPU (% of one core, lower is better)', '%', measured.map(([name, r]) => ({ name, value: r.cpuPercentOfCore })), width / 2 + 10, width / 2 - 20, height),
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle" fill="#555">${escapeXml(caption)}</text>`,
    ...missing.map((m, i) => `<text x="${width / 2}" y="${height + 12 + i * 14}" text-anchor="middle" fill="#a00">${escapeXml(m)}</text>`),
  ];
  const total = height + (missing.length ? 8 + missing.length * 14 : 0);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${total}" viewBox="0 0 ${width} ${total}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${total}" fill="#fff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    process.stderr.write('usage: chart.js PEERS.json OUT.svg (PEERS.json from `main.js --peers`)\n');
    process.exit(2);
  }
  const report = JSON.parse(readFileSync(input, 'utf8')) as PeerReport;
  writeFileSync(output, peerChartSvg(report));
  process.stderr.write(`wrote ${output}\n`);
}
