/** The connection banner: visible whenever the API does not answer, with the next retry and a button. */
import { useEffect, useState } from 'preact/hooks';
import { connectionState, onConnectionChange, retryNow, type ConnectionState } from '../api-client.js';

export function ConnectionBanner() {
  const [state, setState] = useState<ConnectionState>(connectionState());
  const [, setNow] = useState(Date.now());
  useEffect(() => onConnectionChange(setState), []);
  useEffect(() => {
    if (state.up) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [state]);
  if (state.up) return null;
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
