/** The connection banner: when the API does not answer (with the next retry and a button) or is slow. */
import { useEffect, useState } from 'preact/hooks';
import { connectionState, onConnectionChange, retryNow, type ConnectionState } from '../api-client.js';

export function ConnectionBanner() {
  const [state, setState] = useState<ConnectionState>(connectionState());
  const [, setNow] = useState(Date.now());
  useEffect(() => onConnectionChange(setState), []);
  useEffect(() => {
    if (state.up && state.slowSince === undefined) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [state]);
  if (state.up) {
    if (state.slowSince === undefined) return null;
    return (
      <div class="banner banner-slow" role="status" data-testid="api-slow">
        The Sextant API is slow to answer (waiting {Math.round((Date.now() - state.slowSince) / 1000)} s so far); what you see may be out of date.
      </div>
    );
  }
  const seconds = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
  return (
    <div class="banner banner-error" role="alert" data-testid="api-down">
      <strong>Cannot reach the Sextant API</strong> ({state.reason}). What you see may be out of date. Retrying in {seconds} s.{' '}
      <button type="button" onClick={() => retryNow()}>
        Retry now
      </button>
    </div>
  );
}

export function ErrorNote({ message }: { message: string | undefined }) {
  if (!message) return null;
  return (
    <p class="note note-error" role="alert">
      {message}
    </p>
  );
}
