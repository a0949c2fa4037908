/** Plugins: every instance with its state, restarts, failures and last error; every plugin package found. */
import { useEffect } from 'preact/hooks';
import type { InstanceStatus, PluginInfo } from '../api-types.js';
import { ErrorNote } from '../components/Banner.js';
import { AttrValue } from '../components/Attr.js';
import { formatTime } from '../display-format.js';
import { subscribe } from '../live-stream.js';
import { useApi, useThrottled } from '../use-api.js';

export function Plugins() {
  const data = useApi<{ plugins: PluginInfo[]; instances: InstanceStatus[] }>('./api/v1/plugins');
  const reload = useThrottled(data.reload, 10_000);
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
              <th scope="col">last error</th>
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
