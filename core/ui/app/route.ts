/**
 * Hash routes, so every view is a link someone can share: `#/series/42?range=6h`,
 * `#/incidents/inc-123`, `#/anomalies?range=24h`. Pure functions: parse and format only.
 */
export type Page = 'overview' | 'series' | 'incidents' | 'anomalies' | 'plugins' | 'silences';

export interface Route {
  readonly page: Page;
  /** Series id (series page) or incident id (incidents page). */
  readonly id?: string;
  readonly query: Readonly<Record<string, string>>;
}

const PAGES: readonly Page[] = ['overview', 'series', 'incidents', 'anomalies', 'plugins', 'silences'];

export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const [path = '', search = ''] = text.split('?', 2);
  const [first, ...rest] = path.split('/').filter(Boolean);
  const page = (PAGES as readonly string[]).includes(first ?? '') ? (first as Page) : 'overview';
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(search)) query[k] = v;
  const id = rest.length ? decodeURIComponent(rest.join('/')) : undefined;
  return { page, ...(id !== undefined ? { id } : {}), query };
}

export function formatRoute(route: Route): string {
  const search = new URLSearchParams(Object.entries(route.query).filter(([, v]) => v !== '')).toString();
  return `#/${route.page}${route.id !== undefined ? `/${encodeURIComponent(route.id)}` : ''}${search ? `?${search}` : ''}`;
}

/** Time ranges the pickers offer, as the server's relative syntax (`-6h`). */
export const RANGES = ['15m', '1h', '6h', '24h', '7d'] as const;
export type Range = (typeof RANGES)[number];

export function parseRange(value: string | undefined, fallback: Range): Range {
  return (RANGES as readonly string[]).includes(value ?? '') ? (value as Range) : fallback;
}

export const RANGE_MS: Record<Range, number> = { '15m': 900_000, '1h': 3_600_000, '6h': 21_600_000, '24h': 86_400_000, '7d': 604_800_000 };

/**
 * The time window of a chart as API parameters: an absolute window (`from`/`to` in ms, set by
 * zooming and shareable) wins over a preset range (`-6h`). Undefined `to` means "until now".
 */
export function timeWindow(query: Readonly<Record<string, string>>, fallback: Range): { from: string; to?: string; zoomed: boolean; range: Range } {
  const range = parseRange(query.range, fallback);
  const from = Number(query.from);
  const to = Number(query.to);
  if (query.from && query.to && Number.isFinite(from) && Number.isFinite(to) && to > from) return { from: String(Math.floor(from)), to: String(Math.ceil(to)), zoomed: true, range };
  return { from: `-${range}`, zoomed: false, range };
}
