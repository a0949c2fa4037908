/**
 * A time-series chart (uPlot): the value, the detector's expected value as a dashed line, its band
 * as a shaded area, anomalies as red dots on the line, and change events (deploys, config runs) as
 * vertical markers. Gaps in the data stay gaps (see chart-data.ts).
 *
 * The element carries what a test or a screen reader needs without reading pixels:
 * `data-points`, `data-band`, `data-anomalies`, `data-events` and `data-render-ms` (time from
 * creating the plot to its first draw).
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartColumns } from '../chart-data.js';
import { formatNumber } from '../display-format.js';

export interface ChartMarker {
  /** ms since the epoch */
  readonly at: number;
  readonly title: string;
}

export interface ChartProps {
  readonly columns: ChartColumns;
  readonly unit: string;
  readonly label: string;
  readonly markers?: readonly ChartMarker[];
  readonly height?: number;
  /** Called with the window (ms) a person selected by dragging; without it, dragging does nothing. */
  readonly onZoom?: (fromMs: number, toMs: number) => void;
}

const COLORS = { value: '#2563eb', expected: '#64748b', band: 'rgba(100, 116, 139, 0.18)', anomaly: '#dc2626', marker: '#9333ea' };

function drawMarkers(u: uPlot, markers: readonly ChartMarker[]): void {
  const ctx = u.ctx;
  ctx.save();
  ctx.strokeStyle = COLORS.marker;
  ctx.fillStyle = COLORS.marker;
  ctx.lineWidth = 1.5 * devicePixelRatio;
  ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
  ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
  for (const m of markers) {
    const x = u.valToPos(m.at / 1000, 'x', true);
    if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.fillText(m.title.slice(0, 30), x + 3 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
  }
  ctx.restore();
}

export function Chart({ columns, unit, label, markers = [], height = 280, onZoom }: ChartProps) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const started = performance.now();
    // Axis text and grid follow the page's palette (light or dark); the canvas cannot read CSS.
    const style = getComputedStyle(el);
    const css = { text: style.getPropertyValue('--text').trim() || '#0f172a', line: style.getPropertyValue('--line').trim() || '#cbd5e1' };
    let firstDraw = true;
    const fmt = (_u: uPlot, v: number | null) => (v === null ? '—' : formatNumber(v, unit));
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height,
      scales: { x: { time: true } },
      // Dragging selects a window; the page puts it in the URL (shareable) and reloads that window.
      cursor: { drag: { x: true, y: false, setScale: false } },
      series: [
        {},
        { label, stroke: COLORS.value, width: 1.5, value: fmt, spanGaps: false },
        { label: 'expected', stroke: COLORS.expected, width: 1, dash: [6, 4], value: fmt, spanGaps: false },
        { label: 'band low', stroke: 'transparent', value: fmt, spanGaps: false },
        { label: 'band high', stroke: 'transparent', value: fmt, spanGaps: false },
        { label: 'anomaly', stroke: COLORS.anomaly, fill: COLORS.anomaly, paths: () => null, points: { show: true, size: 9, stroke: COLORS.anomaly, fill: COLORS.anomaly }, value: fmt },
      ],
      bands: [{ series: [4, 3], fill: COLORS.band }],
      axes: [
        { stroke: css.text, grid: { stroke: css.line, width: 1 }, ticks: { stroke: css.line, width: 1 } },
        { stroke: css.text, grid: { stroke: css.line, width: 1 }, ticks: { stroke: css.line, width: 1 }, values: (_u, ticks) => ticks.map((t) => formatNumber(t)), size: 60 },
      ],
      hooks: {
        setSelect: [
          (u) => {
            if (!onZoom || u.select.width < 4) return;
            const from = u.posToVal(u.select.left, 'x');
            const to = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            onZoom(from * 1000, to * 1000);
          },
        ],
        draw: [
          (u) => {
            drawMarkers(u, markers);
            if (firstDraw) {
              firstDraw = false;
              el.dataset.renderMs = (performance.now() - started).toFixed(1);
            }
          },
        ],
      },
    };
    const data: uPlot.AlignedData = [columns.x, columns.value, columns.expected, columns.lower, columns.upper, columns.anomaly];
    const plot = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [columns, unit, label, markers, height, onZoom]);
  const anomalies = columns.anomaly.filter((v) => v !== null).length;
  const summary = `${label}: ${columns.x.length} points${columns.hasBand ? ', with the expected band' : ''}, ${anomalies} anomal${anomalies === 1 ? 'y' : 'ies'} marked, ${markers.length} change event${markers.length === 1 ? '' : 's'}`;
  return (
    <figure class="chart" aria-label={summary}>
      <div
        ref={host}
        class="chart-canvas"
        data-testid="series-chart"
        data-points={columns.x.length}
        data-band={String(columns.hasBand)}
        data-anomalies={anomalies}
        data-events={markers.length}
      />
      <figcaption class="chart-caption">{summary}.</figcaption>
    </figure>
  );
}
