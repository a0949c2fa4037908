/**
 * Series explorer: search (metric and attributes, paged), and one series' chart with the expected
 * value, band, anomalies and change events, its learning state in words, for a time range in the URL.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import type { Anomaly, SamplePoint, SeriesInfo, StoredEvent } from '../api-types.js';
import { ErrorNote } from '../components/Banner.js';
import { AttrList } from '../components/Attr.js';
import { Chart, type ChartMarker } from '../components/Chart.js';
import { buildChartColumns } from '../chart-data.js';
import { describeLearningProgress, formatAgo, formatNumber, formatTime } from '../display-format.js';
import { subscribe } from '../live-stream.js';
import { formatRoute, RANGES, timeWindow, type Route } from '../route.js';
import { parseSeriesQuery, seriesSearchPath } from '../series-query.js';
import { useApi, useThrottled } from '../use-api.js';

const PAGE = 50;
const MAX_LIMIT = 1000;

const LEARNING_TEXT: Record<string, string> = {
  learning: 'Learning: Sextant is still learning what normal looks like for this series. The band is a first guess and no anomaly is raised yet.',
  provisional: 'Provisional: enough history for a band and for strong anomalies; daily and weekly patterns are still being learned.',
  trusted: 'Trusted: the band reflects this series’ learned daily and weekly pattern; anomalies are raised against it.',
};

export function SeriesExplorer({ route, navigate }: { route: Route; navigate: (r: Route) => void }) {
  const q = route.query.q ?? '';
  const [text, setText] = useState(q);
  const [limit, setLimit] = useState(PAGE);
  useEffect(() => {
    setText(q);
    setLimit(PAGE);
  }, [q]);
  const query = useMemo(() => parseSeriesQuery(q), [q]);
  const list = useApi<{ series: SeriesInfo[] }>(seriesSearchPath(query, limit + 1));
  const shown = (list.data?.series ?? []).slice(0, limit);
  const more = (list.data?.series.length ?? 0) > limit;
  return (
    <section aria-labelledby="series-title">
      <h1 id="series-title">Series</h1>
      <form
        class="search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate({ page: 'series', ...(route.id ? { id: route.id } : {}), query: { ...route.query, q: text } });
        }}
      >
        <label for="series-q">Metric and attributes</label>
        <input id="series-q" type="search" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} placeholder="http.server.requests service.name=web" />
        <button type="submit">Search</button>
      </form>
      <div class="split">
        <div class="series-list">
          <ErrorNote message={list.error} />
          <p class="muted" aria-live="polite">
            {list.data ? `${shown.length}${more ? '+' : ''} series${more ? ' (refine the search to narrow it)' : ''}` : 'Loading…'}
          </p>
          <ul class="list" data-testid="series-list">
            {shown.map((s) => (
              <li key={s.id} class={String(s.id) === route.id ? 'selected' : ''}>
                <a href={formatRoute({ page: 'series', id: String(s.id), query: route.query })}>
                  <span class="metric">{s.metric}</span> <span class="muted">{formatNumber(s.latest?.value, s.unit)}</span>
                </a>
                <AttrList attrs={{ ...s.resource, ...s.attributes }} skip={['host.name']} />
              </li>
            ))}
          </ul>
          {more && limit < MAX_LIMIT ? (
            <button type="button" onClick={() => setLimit((l) => Math.min(MAX_LIMIT, l + PAGE))}>
              Show {PAGE} more
            </button>
          ) : null}
        </div>
        <div class="series-detail">{route.id ? <SeriesDetail key={route.id} id={route.id} route={route} navigate={navigate} /> : <p class="empty">Choose a series to see its chart.</p>}</div>
      </div>
    </section>
  );
}

function related(event: StoredEvent, series: SeriesInfo): boolean {
  const keys = Object.keys(event.resource);
  if (keys.length === 0) return true;
  return keys.some((k) => ['service.name', 'container.id', 'host.name', 'k8s.deployment.name'].includes(k) && series.resource[k] !== undefined && String(series.resource[k]) === String(event.resource[k]));
}

function SeriesDetail({ id, route, navigate }: { id: string; route: Route; navigate: (r: Route) => void }) {
  const shown = timeWindow(route.query, '6h');
  const { range } = shown;
  const span = `from=${encodeURIComponent(shown.from)}${shown.to ? `&to=${shown.to}` : ''}`;
  const samples = useApi<{ series: SeriesInfo; samples: SamplePoint[]; expectation: SeriesInfo['expectation'] }>(`./api/v1/series/${encodeURIComponent(id)}/samples?${span}`);
  const series = samples.data?.series;
  const anomalies = useApi<{ anomalies: Anomaly[] }>(series ? `./api/v1/anomalies?${span}&metric=${encodeURIComponent(series.metric)}&limit=5000` : undefined);
  const events = useApi<{ events: StoredEvent[] }>(`./api/v1/events?${span}&limit=1000`);
  const zoom = useCallback(
    (fromMs: number, toMs: number) => navigate({ ...route, query: { ...route.query, from: String(Math.floor(fromMs)), to: String(Math.ceil(toMs)) } }),
    [route, navigate],
  );
  const withoutZoom = (query: Readonly<Record<string, string>>) => Object.fromEntries(Object.entries(query).filter(([k]) => k !== 'from' && k !== 'to'));
  // A zoomed (absolute) window does not move; a relative one follows new samples.
  const reload = useThrottled(() => {
    if (shown.zoomed) return;
    samples.reload();
    anomalies.reload();
  }, 5000);
  useEffect(() => {
    const offTick = subscribe('tick', reload);
    const offAnomaly = subscribe('anomaly', (a) => {
      if (String(a.seriesId) === id) reload();
    });
    const offEvent = subscribe('event', () => events.reload());
    return () => {
      offTick();
      offAnomaly();
      offEvent();
    };
  }, [id, reload]);
  const own = useMemo(() => (anomalies.data?.anomalies ?? []).filter((a) => String(a.seriesId) === id), [anomalies.data, id]);
  const columns = useMemo(() => buildChartColumns(samples.data?.samples ?? [], own.map((a) => a.timestamp)), [samples.data, own]);
  const markers = useMemo<ChartMarker[]>(
    () => (series ? (events.data?.events ?? []).filter((e) => !['silence', 'maintenance', 'silence.end', 'maintenance.end'].includes(e.type) && related(e, series)).map((e) => ({ at: e.timestamp, title: `${e.type}: ${e.title}` })) : []),
    [events.data, series],
  );
  if (samples.error) return <ErrorNote message={samples.error} />;
  if (!samples.data || !series) return <p class="loading">Loading series {id}…</p>;
  const state = samples.data.expectation?.state;
  const progress = state === 'trusted' ? undefined : describeLearningProgress(samples.data.expectation?.progress);
  const last = samples.data.samples[samples.data.samples.length - 1];
  return (
    <article aria-labelledby="series-detail-title" data-series={id}>
      <h2 id="series-detail-title">
        {series.metric} <span class="muted">({series.unit === '1' ? 'ratio' : series.unit.replace(/\{([^}]*)\}/g, '$1')})</span>
      </h2>
      <AttrList attrs={{ ...series.resource, ...series.attributes }} />
      <div class="toolbar" role="group" aria-label="Time range">
        {RANGES.map((r) => (
          <button key={r} type="button" aria-pressed={!shown.zoomed && r === range} onClick={() => navigate({ ...route, query: { ...withoutZoom(route.query), range: r } })}>
            {r}
          </button>
        ))}
      </div>
      {shown.zoomed ? (
        <p class="muted" data-testid="zoomed">
          Zoomed to {formatTime(Number(shown.from))} – {formatTime(Number(shown.to))} (this URL keeps it).{' '}
          <button type="button" onClick={() => navigate({ ...route, query: withoutZoom(route.query) })}>
            Back to the last {range}
          </button>
        </p>
      ) : (
        <p class="muted">Drag across the chart to zoom in.</p>
      )}
      <p class={`learning learning-${state ?? 'none'}`} data-testid="learning-state">
        {state ? LEARNING_TEXT[state] : 'No detector models this series: no band and no learned anomalies (threshold rules still apply).'}
        {progress ? <span data-testid="learning-progress"> So far: {progress}</span> : null}
      </p>
      {samples.data.samples.length === 0 ? <p class="empty">No samples in this time range.</p> : <Chart columns={columns} unit={series.unit} label={series.metric} markers={markers} onZoom={zoom} />}
      <p class="muted">
        Latest: {formatNumber(last?.value, series.unit)} at {formatTime(last?.timestamp)}; source {series.source}.
      </p>
      {own.length ? (
        <>
          <h3>Anomalies on this series</h3>
          <ul class="list">
            {own
              .slice(-20)
              .reverse()
              .map((a) => (
                <li key={a.id}>
                  <span class={`sev sev-${a.severity}`}>{a.severity}</span> {a.kind} — {a.message} <span class="muted">{formatAgo(a.timestamp, last?.timestamp ?? a.timestamp)}</span>
                </li>
              ))}
          </ul>
        </>
      ) : null}
    </article>
  );
}
