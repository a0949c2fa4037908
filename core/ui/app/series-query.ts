/**
 * The series search box: words are read as `metric` (exact, or a prefix ending in `*`) and
 * `key=value` attribute filters, and become GET /api/v1/series parameters. Paged by `limit`: the
 * UI never asks for more than it shows.
 */
export interface SeriesQuery {
  readonly metric?: string;
  readonly match: Readonly<Record<string, string>>;
}

const RESERVED = new Set(['metric', 'limit', 'from', 'to', 'type']);

export function parseSeriesQuery(text: string): SeriesQuery {
  const match: Record<string, string> = {};
  let metric: string | undefined;
  for (const word of text.trim().split(/\s+/).filter(Boolean)) {
    const eq = word.indexOf('=');
    if (eq > 0) {
      const key = word.slice(0, eq);
      if (!RESERVED.has(key)) match[key] = word.slice(eq + 1);
    } else metric = word;
  }
  return { ...(metric ? { metric } : {}), match };
}

export function seriesSearchPath(query: SeriesQuery, limit: number): string {
  const params = new URLSearchParams();
  if (query.metric) params.set('metric', query.metric);
  for (const [k, v] of Object.entries(query.match)) params.set(k, v);
  params.set('limit', String(limit));
  return `./api/v1/series?${params.toString()}`;
}
