/** How numbers, times and attributes are written on screen. */
import type { Attributes, LearningProgress } from './api-types.js';

export function formatNumber(v: number | null | undefined, unit = ''): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const abs = Math.abs(v);
  let text: string;
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) text = v.toExponential(2);
  else if (abs >= 1000) text = v.toLocaleString('en-US', { maximumFractionDigits: 0 });
  else text = String(Number(v.toPrecision(4)));
  const u = unit === '1' ? '' : unit.replace(/^\{(.*)\}/, '$1');
  return u ? `${text} ${u}` : text;
}

export function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  return d.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

/** Whole units down to one decimal (never rounded up: "2 of 2 days" only once it is true). */
function partOf(ms: number, unitMs: number): string {
  const v = Math.floor((ms / unitMs) * 10) / 10;
  return v >= 10 ? String(Math.floor(v)) : String(v);
}

/**
 * How far a series is from trusted, in plain words: "1.3 of 2 days and 120 of 250 samples seen".
 * Undefined when the detector gives no progress or the series has all it needs.
 */
export function describeLearningProgress(p: LearningProgress | undefined): string | undefined {
  if (!p || !(p.spanNeededMs > 0) || !(p.samplesNeeded > 0)) return undefined;
  if (p.spanMs >= p.spanNeededMs && p.samples >= p.samplesNeeded) return undefined;
  const unit = p.spanNeededMs >= 86_400_000 ? { ms: 86_400_000, name: 'days' } : { ms: 3_600_000, name: 'hours' };
  const time = `${partOf(Math.min(Math.max(0, p.spanMs), p.spanNeededMs), unit.ms)} of ${partOf(p.spanNeededMs, unit.ms)} ${unit.name}`;
  const samples = `${Math.min(p.samples, p.samplesNeeded).toLocaleString('en-US')} of ${p.samplesNeeded.toLocaleString('en-US')} samples`;
  return `${time} and ${samples} seen; trusted once it has both.`;
}

/** "3 min ago" relative to `now` (the server's clock when known). */
export function formatAgo(ms: number, now: number): string {
  const s = Math.round((now - ms) / 1000);
  if (s < 0) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

/** `key=value` pairs, sorted, for a label line. */
export function attributePairs(attrs: Attributes): [string, string][] {
  return Object.entries(attrs)
    .map(([k, v]) => [k, String(v)] as [string, string])
    .sort(([a], [b]) => a.localeCompare(b));
}

/** The most telling name of a resource: service, container, pod, host, in that order. */
export function resourceName(resource: Attributes): string {
  for (const key of ['service.name', 'container.name', 'k8s.pod.name', 'container.id', 'host.name']) {
    if (resource[key] !== undefined) return String(resource[key]);
  }
  const first = Object.values(resource)[0];
  return first === undefined ? '(no resource)' : String(first);
}

export const IMPACT_LABEL: Record<string, string> = { business: 'Business', user: 'User', infrastructure: 'Server' };
