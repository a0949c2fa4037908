/** Overview: counts (series, samples/s, open incidents, plugin instances by state) and the topology. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Health as ApiHealth, Incident, InstanceStatus, PluginInfo, TopologyEdge, TopologyEntity } from '../api-types.js';
import { ErrorNote } from '../components/Banner.js';
import { Topology } from '../components/Topology.js';
import { formatNumber } from '../display-format.js';
import { subscribe } from '../live-stream.js';
import { healthByEntity } from '../topology-layout.js';
import { useApi, useThrottled } from '../use-api.js';

export function Overview() {
  const health = useApi<ApiHealth>('./healthz');
  const topology = useApi<{ entities: TopologyEntity[]; edges: TopologyEdge[] }>('./api/v1/topology');
  const incidents = useApi<{ incidents: Incident[] }>('./api/v1/incidents?status=open');
  const plugins = useApi<{ plugins: PluginInfo[]; instances: InstanceStatus[] }>('./api/v1/plugins');
  const [rate, setRate] = useState<number | undefined>(undefined);
  const [series, setSeries] = useState<number | undefined>(undefined);
  const reloadTopology = useThrottled(() => {
    topology.reload();
    plugins.reload();
  }, 10_000);
  const reloadIncidents = useThrottled(incidents.reload, 1000);
  useEffect(() => {
    const offTick = subscribe('tick', (t) => {
      setRate(t.samplesPerSecond);
      setSeries(t.series);
      reloadTopology();
    });
    const offIncident = subscribe('incident', reloadIncidents);
    return () => {
      offTick();
      offIncident();
    };
  }, [reloadTopology, reloadIncidents]);
  const open = incidents.data?.incidents ?? [];
  const healthMap = useMemo(() => healthByEntity(open), [open]);
  const byState: Record<string, number> = {};
  for (const s of plugins.data?.instances ?? []) byState[s.state] = (byState[s.state] ?? 0) + 1;
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      <div class="cards">
        <div class="card" data-testid="series-count">
          <span class="card-value">{formatNumber(series ?? health.data?.series)}</span>
          <span class="card-label">series</span>
        </div>
        <div class="card" data-testid="samples-rate">
          <span class="card-value">{rate === undefined ? '…' : formatNumber(rate)}</span>
          <span class="card-label">samples/s</span>
        </div>
        <a class={`card${open.length ? ' card-alert' : ''}`} href="#/incidents?status=open" data-testid="open-incidents">
          <span class="card-value">{incidents.data ? open.length : '…'}</span>
          <span class="card-label">open incident{open.length === 1 ? '' : 's'}</span>
        </a>
        <a class="card" href="#/plugins" data-testid="plugin-states">
          <span class="card-value">{plugins.data ? plugins.data.instances.length : '…'}</span>
          <span class="card-label">
            plugin instances
            {Object.entries(byState)
              .sort()
              .map(([state, n]) => (
                <span key={state} class={`state state-${state}`}>
                  {' '}
                  {n} {state}
                </span>
              ))}
          </span>
        </a>
      </div>
      <h2>Topology</h2>
      <ErrorNote message={topology.error} />
      {topology.data ? <Topology entities={topology.data.entities} edges={topology.data.edges} health={healthMap} /> : <p class="loading">Loading topology…</p>}
    </section>
  );
}
