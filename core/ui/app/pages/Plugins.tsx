/** Plugins: every instance with its state, restarts, failures and last error; every plugin package found. */
import { useEffect } from 'preact/hooks';
import type { AutodiscoveryView, InstanceStatus, PluginInfo } from '../api-types.js';
import { ErrorNote } from '../components/Banner.js';
import { AttrValue } from '../components/Attr.js';
import { formatTime } from '../display-format.js';
import { subscribe } from '../live-stream.js';
import { useApi, useThrottled } from '../use-api.js';

export function Plugins() {
  const data = useApi<{ plugins: PluginInfo[]; instances: InstanceStatus[] }>('./api/v1/plugins');
  const discovery = useApi<AutodiscoveryView>('./api/v1/autodiscovery');
  const reload = useThrottled(() => {
    data.reload();
    discovery.reload();
  }, 10_000);
  useEffect(() => subscribe('tick', reload), [reload]);
  return (
    <section aria-labelledby="plugins-title">
      <h1 id="plugins-title">Plugins</h1>
      <ErrorNote message={data.error} />
      <div class="table-scroll">
        <table data-testid="instances">
          <caption>Instances</caption>
          <thead>
            <tr>
              <th scope="col">instance</th>
              <th scope="col">kind</th>
              <th scope="col">state</th>
              <th scope="col">since</th>
              <th scope="col">isolation</th>
              <th scope="col">restarts</th>
              <th scope="col">failures</th>
              <th scope="col">status message (last error)</th>
            </tr>
          </thead>
          <tbody>
            {(data.data?.instances ?? []).map((s) => (
              <tr key={s.id}>
                <th scope="row">{s.id}</th>
                <td>{s.kind}</td>
                <td>
                  <span class={`state state-${s.state}`}>{s.state}</span>
                </td>
                <td>{formatTime(s.since)}</td>
                <td>
                  {s.isolation}
                  {s.process?.pid ? ` (pid ${s.process.pid})` : ''}
                  {s.process?.quarantined ? ' quarantined' : ''}
                </td>
                <td>{s.restarts + (s.process?.restarts ?? 0)}</td>
                <td>{s.failures}</td>
                <td>{s.message ? <AttrValue value={`${s.code ? `${s.code}: ` : ''}${s.message}`} /> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Autodiscovery</h2>
      {discovery.data && !discovery.data.enabled ? <p class="muted">Autodiscovery is off in this process (plugins are not started for containers); what it would do is shown.</p> : null}
      {discovery.data && discovery.data.containers.length === 0 ? <p class="empty">No containers reported (the containers collector reports them).</p> : null}
      <ul class="list" data-testid="autodiscovery">
        {(discovery.data?.containers ?? []).map((c) => (
          <li key={c.id}>
            <strong>{c.name}</strong> <span class="muted">{c.image}</span> ·{' '}
            {c.matches.length === 0
              ? 'nothing to start'
              : c.matches.map((m) => (
                  <span key={m.key}>
                    {m.key} <span class={`state state-${m.instanceState ?? 'none'}`}>{m.instanceState ?? (discovery.data!.enabled ? 'not running' : 'would start')}</span>{' '}
                  </span>
                ))}
            <details>
              <summary>why</summary>
              <ul class="evidence">
                {c.explain.map((line, k) => (
                  <li key={k}>{line}</li>
                ))}
              </ul>
            </details>
          </li>
        ))}
      </ul>
      <div class="table-scroll">
        <table>
          <caption>Plugin packages found</caption>
          <thead>
            <tr>
              <th scope="col">plugin</th>
              <th scope="col">package</th>
              <th scope="col">kinds</th>
              <th scope="col">stability</th>
              <th scope="col">state</th>
            </tr>
          </thead>
          <tbody>
            {(data.data?.plugins ?? []).map((p) => (
              <tr key={p.packageName}>
                <th scope="row">{p.id}</th>
                <td>
                  {p.packageName}@{p.version}
                </td>
                <td>{p.kinds.join(', ')}</td>
                <td>{p.stability ?? '—'}</td>
                <td>
                  <span class={`state state-${p.state}`}>{p.state}</span>
                  {p.error ? <AttrValue value={` ${p.error}`} /> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
