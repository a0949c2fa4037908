/**
 * Silences and maintenance windows: the write token (kept in sessionStorage for this tab), a form
 * to create one, and the list of those in force and recently ended. Incidents matched by a silence
 * still form and show here; their notifications are held back.
 */
import { useEffect, useState } from 'preact/hooks';
import { describeError, post, remove, storedToken, storeToken } from '../api-client.js';
import type { Silence } from '../api-types.js';
import { ErrorNote } from '../components/Banner.js';
import { AttrList } from '../components/Attr.js';
import { formatTime } from '../display-format.js';
import { subscribe } from '../live-stream.js';
import { useApi } from '../use-api.js';

/** `service.name=db, host.name=web-1` -> `{ "service.name": "db", "host.name": "web-1" }`; undefined when unreadable. */
export function parseMatch(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const part of text.split(/[,\n]/).map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return Object.keys(out).length ? out : undefined;
}

export function Silences() {
  const list = useApi<{ silences: Silence[] }>('./api/v1/silences');
  const [token, setToken] = useState(storedToken());
  const [kind, setKind] = useState<'silence' | 'maintenance'>('silence');
  const [match, setMatch] = useState('');
  const [duration, setDuration] = useState('2h');
  const [comment, setComment] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  useEffect(
    () =>
      subscribe('event', (e) => {
        if (e.type === 'silence' || e.type === 'maintenance' || e.type === 'silence.end' || e.type === 'maintenance.end') list.reload();
      }),
    [],
  );
  const submit = async (e: Event) => {
    e.preventDefault();
    const parsed = parseMatch(match);
    if (!parsed) {
      setMessage({ ok: false, text: 'Write what to match as key=value pairs, e.g. service.name=db (separate several with commas).' });
      return;
    }
    setBusy(true);
    try {
      await post(kind === 'silence' ? './api/v1/silences' : './api/v1/maintenance', { match: parsed, duration, ...(comment ? { comment } : {}) });
      setMessage({ ok: true, text: `${kind === 'silence' ? 'Silence' : 'Maintenance window'} created for ${duration}.` });
      setMatch('');
      setComment('');
      list.reload();
    } catch (err) {
      setMessage({ ok: false, text: describeError(err) });
    } finally {
      setBusy(false);
    }
  };
  const end = async (s: Silence) => {
    setBusy(true);
    try {
      await remove(`./api/v1/silences/${encodeURIComponent(s.id)}`);
      setMessage({ ok: true, text: `${s.kind === 'silence' ? 'Silence' : 'Maintenance window'} "${s.comment}" ended.` });
      list.reload();
    } catch (err) {
      setMessage({ ok: false, text: describeError(err) });
    } finally {
      setBusy(false);
    }
  };
  const silences = list.data?.silences ?? [];
  return (
    <section aria-labelledby="silences-title">
      <h1 id="silences-title">Silences and maintenance windows</h1>
      <form class="token" onSubmit={(e) => e.preventDefault()}>
        <label for="token">Server token (needed to create; kept for this browser tab only)</label>
        <input
          id="token"
          type="password"
          autocomplete="off"
          value={token}
          onInput={(e) => {
            const v = (e.target as HTMLInputElement).value;
            setToken(v);
            storeToken(v);
          }}
        />
      </form>
      <form class="create" onSubmit={submit} aria-labelledby="create-title">
        <h2 id="create-title">Create</h2>
        <fieldset>
          <legend>Kind</legend>
          <label>
            <input type="radio" name="kind" checked={kind === 'silence'} onChange={() => setKind('silence')} /> silence (incidents form, notifications are held back)
          </label>
          <label>
            <input type="radio" name="kind" checked={kind === 'maintenance'} onChange={() => setKind('maintenance')} /> maintenance (also pauses learning)
          </label>
        </fieldset>
        <label for="match">Match (key=value, comma separated)</label>
        <input id="match" value={match} onInput={(e) => setMatch((e.target as HTMLInputElement).value)} placeholder="service.name=db" required />
        <label for="duration">Duration</label>
        <select id="duration" value={duration} onChange={(e) => setDuration((e.target as HTMLSelectElement).value)}>
          {['30m', '1h', '2h', '4h', '12h', '24h', '7d'].map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
        <label for="comment">Comment</label>
        <input id="comment" value={comment} maxLength={500} onInput={(e) => setComment((e.target as HTMLInputElement).value)} placeholder="db migration" />
        <button type="submit" disabled={busy}>
          Create
        </button>
        {message ? (
          <p class={`note ${message.ok ? 'note-ok' : 'note-error'}`} role={message.ok ? 'status' : 'alert'} data-testid="silence-message">
            {message.text}
          </p>
        ) : null}
      </form>
      <h2>In force and recent</h2>
      <ErrorNote message={list.error} />
      {list.data && silences.length === 0 ? <p class="empty">No silences or maintenance windows.</p> : null}
      <ul class="list" data-testid="silence-list">
        {silences.map((s) => (
          <li key={s.id} class={s.active ? 'active' : 'ended'}>
            <span class={`badge ${s.active ? 'badge-silenced' : ''}`}>{s.active ? 'active' : 'ended'}</span> {s.kind} · {s.comment} · {formatTime(s.from)} → {formatTime(s.until)}
            {s.endedAt !== undefined ? ' (ended early)' : ''}
            {s.active ? (
              <button type="button" class="end" disabled={busy} onClick={() => void end(s)} aria-label={`End ${s.kind} ${s.comment} now`}>
                End
              </button>
            ) : null}
            <AttrList attrs={s.match} />
          </li>
        ))}
      </ul>
      <p class="muted">A silence ends at its end time, or when you end it here (the server token is needed).</p>
    </section>
  );
}
