/**
 * Incidents: a list with a timeline strip (open/resolved, severity, impact class, silenced), and one
 * incident's page: its story in order, ranked likely causes with evidence, the affected topology,
 * which notifications went out (per notifier and update) and what noise control held back.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Anomaly, Incident, NotificationRow, TopologyEdge, TopologyEntity } from '../api-types.js';
import { ErrorNote } from '../components/Banner.js';
import { Topology } from '../components/Topology.js';
import { formatAgo, formatTime, IMPACT_LABEL, resourceName } from '../display-format.js';
import { serverNow, subscribe } from '../live-stream.js';
import { formatRoute, type Route } from '../route.js';
import { healthByEntity } from '../topology-layout.js';
import { useApi, useThrottled } from '../use-api.js';

/** Why an incident's notifications are held back, when they are (a silence or a maintenance window). */
export function heldBackBy(incident: Incident): string | undefined {
  const s = incident.suppressed.find((x) => x.reason === 'silenced' || x.reason === 'maintenance');
  return s ? `${s.reason === 'maintenance' ? 'maintenance' : 'silenced'}: ${s.detail}` : undefined;
}

/** The server's clock, refreshed on every tick; undefined until the live stream has said hello. */
function useServerNow(): number | undefined {
  const [now, setNow] = useState(serverNow());
  useEffect(() => {
    const offHello = subscribe('hello', (m) => setNow(m.now));
    const offTick = subscribe('tick', (t) => setNow(t.now));
    return () => {
      offHello();
      offTick();
    };
  }, []);
  return now;
}

export function Incidents({ route, navigate }: { route: Route; navigate: (r: Route) => void }) {
  return route.id ? <IncidentPage key={route.id} id={route.id} /> : <IncidentList route={route} navigate={navigate} />;
}

function IncidentList({ route, navigate }: { route: Route; navigate: (r: Route) => void }) {
  const status = route.query.status ?? 'all';
  const list = useApi<{ incidents: Incident[] }>(`./api/v1/incidents${status === 'all' ? '' : `?status=${status}`}`);
  const reload = useThrottled(list.reload, 500);
  const now = useServerNow();
  useEffect(() => subscribe('incident', reload), [reload]);
  const impact = route.query.impact ?? 'all';
  const incidents = (list.data?.incidents ?? []).filter((i) => impact === 'all' || i.impact === impact);
  const end = now ?? Math.max(0, ...incidents.map((i) => i.resolvedAt ?? i.updatedAt));
  const start = Math.min(end - 3_600_000, ...incidents.map((i) => i.openedAt));
  const span = Math.max(1, end - start);
  return (
    <section aria-labelledby="incidents-title">
      <h1 id="incidents-title">Incidents</h1>
      <div class="toolbar" role="group" aria-label="Status">
        {['open', 'resolved', 'all'].map((s) => (
          <button key={s} type="button" aria-pressed={s === status} onClick={() => navigate({ page: 'incidents', query: { ...route.query, status: s } })}>
            {s}
          </button>
        ))}
      </div>
      <div class="toolbar" role="group" aria-label="Impact">
        {['all', 'business', 'user', 'infrastructure'].map((x) => (
          <button key={x} type="button" aria-pressed={x === impact} onClick={() => navigate({ page: 'incidents', query: { ...route.query, impact: x } })}>
            {x === 'all' ? 'every impact' : IMPACT_LABEL[x]}
          </button>
        ))}
      </div>
      <ErrorNote message={list.error} />
      {list.data && incidents.length === 0 ? <p class="empty">No {status === 'all' ? '' : `${status} `}incidents{impact === 'all' ? '' : ` with ${IMPACT_LABEL[impact] ?? impact} impact`}.</p> : null}
      <ul class="incident-list" data-testid="incident-list">
        {incidents.map((i) => {
          const held = heldBackBy(i);
          const left = ((i.openedAt - start) / span) * 100;
          const width = Math.max(1.5, (((i.resolvedAt ?? end) - i.openedAt) / span) * 100);
          return (
            <li key={i.id} class={`incident incident-${i.status}`} data-incident={i.id}>
              <div class="incident-head">
                <span class={`sev sev-${i.severity}`}>{i.severity}</span>
                <span class={`status status-${i.status}`}>{i.status}</span>
                <span class={`impact impact-${i.impact}`}>{IMPACT_LABEL[i.impact] ?? i.impact}</span>
                {held ? (
                  <span class="badge badge-silenced" title={held}>
                    silenced
                  </span>
                ) : null}
                <a href={formatRoute({ page: 'incidents', id: i.id, query: {} })}>{i.title}</a>
              </div>
              <div class="muted">
                opened {now === undefined ? formatTime(i.openedAt) : formatAgo(i.openedAt, now)} · {i.anomalyIds.length} anomal{i.anomalyIds.length === 1 ? 'y' : 'ies'} · on {i.entities.slice(0, 3).join(', ')}
                {i.entities.length > 3 ? ` and ${i.entities.length - 3} more` : ''}
                {i.causes[0] ? ` · likely cause: ${i.causes[0].entity}` : ''}
              </div>
              <div class="strip" aria-hidden="true">
                <span class={`bar sev-${i.severity}`} style={{ left: `${left}%`, width: `${Math.min(100 - left, width)}%` }} />
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function IncidentPage({ id }: { id: string }) {
  const one = useApi<{ incident: Incident }>(`./api/v1/incidents/${encodeURIComponent(id)}`);
  const topology = useApi<{ entities: TopologyEntity[]; edges: TopologyEdge[] }>('./api/v1/topology');
  const reload = useThrottled(one.reload, 500);
  const deliveries = useApi<{ notifications: NotificationRow[] }>(`./api/v1/incidents/${encodeURIComponent(id)}/notifications`);
  const reloadDeliveries = useThrottled(deliveries.reload, 500);
  useEffect(
    () =>
      subscribe('incident', (m) => {
        if (m.incident.id !== id) return;
        reload();
        reloadDeliveries();
      }),
    [id, reload, reloadDeliveries],
  );
  // Delivery happens after the update is published (and is retried): look again while any is pending.
  const pending = deliveries.data?.notifications.some((n) => n.outcome === 'pending') ?? false;
  useEffect(() => {
    if (!pending) return undefined;
    const timer = setInterval(reloadDeliveries, 5000);
    return () => clearInterval(timer);
  }, [pending, reloadDeliveries]);
  const incident = one.data?.incident;
  const anomalies = useApi<{ anomalies: Anomaly[] }>(incident ? `./api/v1/anomalies?from=${incident.openedAt - 3_600_000}${incident.resolvedAt ? `&to=${incident.resolvedAt}` : ''}&limit=5000` : undefined);
  const own = useMemo(() => {
    const ids = new Set(incident?.anomalyIds ?? []);
    return (anomalies.data?.anomalies ?? []).filter((a) => ids.has(a.id));
  }, [anomalies.data, incident]);
  const affected = useMemo(() => new Set(incident?.entities ?? []), [incident]);
  const health = useMemo(() => healthByEntity(incident ? [incident] : []), [incident]);
  if (one.error) return <ErrorNote message={one.error} />;
  if (!incident) return <p class="loading">Loading incident {id}…</p>;
  const held = heldBackBy(incident);
  const related = topology.data ? topology.data.entities.filter((e) => affected.has(e.id) || topology.data!.edges.some((x) => (x.from === e.id && affected.has(x.to)) || (x.to === e.id && affected.has(x.from)))) : [];
  return (
    <article aria-labelledby="incident-title" data-testid="incident-page">
      <p>
        <a href="#/incidents">← all incidents</a>
      </p>
      <h1 id="incident-title">{incident.title}</h1>
      <p>
        <span class={`sev sev-${incident.severity}`}>{incident.severity}</span> <span class={`status status-${incident.status}`}>{incident.status}</span>{' '}
        <span class={`impact impact-${incident.impact}`}>{IMPACT_LABEL[incident.impact] ?? incident.impact} impact</span> · opened {formatTime(incident.openedAt)}
        {incident.resolvedAt ? ` · resolved ${formatTime(incident.resolvedAt)}` : ''}
      </p>
      <h2>Likely causes</h2>
      {incident.causes.length === 0 ? <p class="empty">No cause ranked yet.</p> : null}
      <ol class="causes" data-testid="causes">
        {incident.causes.map((c) => (
          <li key={c.entity}>
            <div>
              <strong>{c.entity}</strong> <meter min={0} max={1} value={c.score} aria-label={`score ${c.score.toFixed(2)}`} /> {c.score.toFixed(2)}
            </div>
            <div>{c.summary}</div>
            {c.evidence.length ? (
              <ul class="evidence">
                {c.evidence.map((e, k) => (
                  <li key={k}>{e}</li>
                ))}
              </ul>
            ) : null}
          </li>
        ))}
      </ol>
      <h2>Anomalies</h2>
      <ul class="list" data-testid="incident-anomalies">
        {own.slice(-50).map((a) => (
          <li key={a.id}>
            <span class={`sev sev-${a.severity}`}>{a.severity}</span> <time dateTime={new Date(a.timestamp).toISOString()}>{formatTime(a.timestamp)}</time>{' '}
            <a href={formatRoute({ page: 'series', id: String(a.seriesId), query: { range: '24h', q: a.metric } })}>
              {a.metric} on {resourceName(a.resource)}
            </a>
            : {a.message}
          </li>
        ))}
      </ul>
      {incident.anomalyIds.length > own.length ? <p class="muted">{incident.anomalyIds.length - own.length} older anomalies are no longer kept.</p> : null}
      <h2>Story</h2>
      <ol class="story">
        {[...incident.timeline]
          .sort((a, b) => a.timestamp - b.timestamp)
          .map((t, k) => (
            <li key={k} class={`story-${t.kind}`}>
              <time dateTime={new Date(t.timestamp).toISOString()}>{formatTime(t.timestamp)}</time> <span class="kind">{t.kind}</span> {t.message}
            </li>
          ))}
      </ol>
      <h2>Notifications</h2>
      <p data-testid="notifications">
        {held
          ? `Held back: ${held}. The incident is kept and shown here; notifiers are not told.`
          : 'Every change of this incident is handed to the configured notifiers (delivery is retried from the outbox).'}
      </p>
      <DeliveryTable rows={deliveries.data?.notifications} />
      {incident.suppressed.length ? (
        <table>
          <caption>What noise control held back</caption>
          <thead>
            <tr>
              <th scope="col">reason</th>
              <th scope="col">detail</th>
              <th scope="col">count</th>
            </tr>
          </thead>
          <tbody>
            {incident.suppressed.map((s, k) => (
              <tr key={k}>
                <td>{s.reason}</td>
                <td>{s.detail}</td>
                <td>{s.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <h2>Affected topology</h2>
      {topology.data ? <Topology entities={related} edges={topology.data.edges} health={health} highlight={affected} /> : null}
    </article>
  );
}

const OUTCOME_LABEL: Record<NotificationRow['outcome'], string> = { pending: 'waiting / retrying', delivered: 'delivered', failed: 'failed', held: 'not sent (held back)' };

/** Which notifier got which update of the incident, and how it went (newest update first). */
function DeliveryTable({ rows }: { rows: readonly NotificationRow[] | undefined }) {
  if (!rows) return null;
  if (rows.length === 0) return <p class="empty" data-testid="deliveries-empty">No notifier has been handed an update of this incident (none configured, or none whose route matches).</p>;
  return (
    <table data-testid="deliveries">
      <caption>Sent to notifiers</caption>
      <thead>
        <tr>
          <th scope="col">update</th>
          <th scope="col">notifier</th>
          <th scope="col">outcome</th>
          <th scope="col">attempts</th>
          <th scope="col">when</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.notifier}#${r.sequence}`} data-outcome={r.outcome}>
            <td>
              #{r.sequence} {r.change}
            </td>
            <td>{r.notifier}</td>
            <td>
              {OUTCOME_LABEL[r.outcome]}
              {r.error ? ` (${r.error})` : ''}
            </td>
            <td>{r.attempts}</td>
            <td>
              <time dateTime={new Date(r.at).toISOString()}>{formatTime(r.at)}</time>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
