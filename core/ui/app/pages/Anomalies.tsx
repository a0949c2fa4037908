/**
 * Anomaly timeline: every anomaly of the chosen range, one row per service (or resource) with dots
 * by severity, grouped under the impact class of the incident that took it in; and what noise
 * control did (grouped, inhibited, silenced, unconfirmed) with the reasons.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Anomaly, Incident } from '../api-types.js';
import { ErrorNote } from '../components/Banner.js';
import { formatTime, IMPACT_LABEL, resourceName } from '../display-format.js';
import { serverNow, subscribe } from '../live-stream.js';
import { formatRoute, parseRange, RANGE_MS, RANGES, type Route } from '../route.js';
import { useApi, useThrottled } from '../use-api.js';

interface Row {
  readonly name: string;
  readonly impact: string;
  readonly anomalies: Anomaly[];
}

export function Anomalies({ route, navigate }: { route: Route; navigate: (r: Route) => void }) {
  const range = parseRange(route.query.range, '24h');
  const anomalies = useApi<{ anomalies: Anomaly[] }>(`./api/v1/anomalies?from=-${range}&limit=5000`);
  const incidents = useApi<{ incidents: Incident[] }>('./api/v1/incidents?limit=500');
  const [now, setNow] = useState<number | undefined>(serverNow());
  const reload = useThrottled(() => {
    anomalies.reload();
    incidents.reload();
  }, 2000);
  useEffect(() => {
    const a = subscribe('anomaly', reload);
    const t = subscribe('tick', (m) => setNow(m.now));
    return () => {
      a();
      t();
    };
  }, [reload]);
  const list = anomalies.data?.anomalies ?? [];
  const impactOf = useMemo(() => {
    const m = new Map<string, string>();
    for (const inc of incidents.data?.incidents ?? []) for (const id of inc.anomalyIds) m.set(id, inc.impact);
    return m;
  }, [incidents.data]);
  const rows = useMemo(() => {
    const byName = new Map<string, Row>();
    for (const a of list) {
      const name = resourceName(a.resource);
      const impact = impactOf.get(a.id) ?? 'none';
      const key = `${impact}\u0000${name}`;
      const row = byName.get(key) ?? { name, impact, anomalies: [] };
      row.anomalies.push(a);
      byName.set(key, row);
    }
    const order: Record<string, number> = { business: 0, user: 1, infrastructure: 2, none: 3 };
    return [...byName.values()].sort((a, b) => order[a.impact] - order[b.impact] || b.anomalies.length - a.anomalies.length);
  }, [list, impactOf]);
  const end = now ?? Math.max(0, ...list.map((a) => a.timestamp));
  const start = end - RANGE_MS[range];
  const noise = useMemo(() => {
    const m = new Map<string, { reason: string; detail: string; count: number }>();
    for (const inc of incidents.data?.incidents ?? []) {
      for (const s of inc.suppressed) {
        const key = `${s.reason}\u0000${s.detail}`;
        const prev = m.get(key);
        m.set(key, { reason: s.reason, detail: s.detail, count: (prev?.count ?? 0) + s.count });
      }
    }
    return [...m.values()].sort((a, b) => b.count - a.count).slice(0, 50);
  }, [incidents.data]);
  return (
    <section aria-labelledby="anomalies-title">
      <h1 id="anomalies-title">Anomaly timeline</h1>
      <div class="toolbar" role="group" aria-label="Time range">
        {RANGES.map((r) => (
          <button key={r} type="button" aria-pressed={r === range} onClick={() => navigate({ page: 'anomalies', query: { range: r } })}>
            {r}
          </button>
        ))}
      </div>
      <ErrorNote message={anomalies.error} />
      <p class="muted">
        {list.length} anomal{list.length === 1 ? 'y' : 'ies'} from {formatTime(start)} to {formatTime(end)}, by impact class of their incident.
      </p>
      <table class="timeline" data-testid="anomaly-timeline">
        <thead>
          <tr>
            <th scope="col">impact</th>
            <th scope="col">service</th>
            <th scope="col">anomalies over time</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={`${row.impact}/${row.name}`}>
              <td>{row.impact === 'none' ? 'no incident' : IMPACT_LABEL[row.impact]}</td>
              <th scope="row" class="truncate" title={row.name}>
                {row.name}
              </th>
              <td class="dots">
                {row.anomalies.map((a) => (
                  <a
                    key={a.id}
                    class={`dot sev-${a.severity}`}
                    style={{ left: `${Math.max(1, Math.min(99, ((a.timestamp - start) / (end - start)) * 100))}%` }}
                    href={formatRoute({ page: 'series', id: String(a.seriesId), query: { range, from: String(a.timestamp - 1_800_000), to: String(a.timestamp + 1_800_000) } })}
                    title={`${formatTime(a.timestamp)} ${a.metric}: ${a.message}`}
                    aria-label={`${a.severity} ${a.kind} on ${a.metric} at ${formatTime(a.timestamp)}`}
                  />
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Noise control</h2>
      {noise.length === 0 ? (
        <p class="empty">Nothing held back so far.</p>
      ) : (
        <table>
          <caption>Grouped, inhibited, silenced or deduplicated, and why (over the listed incidents)</caption>
          <thead>
            <tr>
              <th scope="col">reason</th>
              <th scope="col">detail</th>
              <th scope="col">count</th>
            </tr>
          </thead>
          <tbody>
            {noise.map((s, k) => (
              <tr key={k}>
                <td>{s.reason}</td>
                <td>{s.detail}</td>
                <td>{s.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
