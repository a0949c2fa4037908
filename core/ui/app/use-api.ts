/**
 * `useApi(path)`: loads a JSON resource for a view and keeps it while a new one loads. `reload()`
 * fetches again (live updates call it); a newer request cancels an older one.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { describeError, get } from './api-client.js';

export interface ApiResource<T> {
  readonly data: T | undefined;
  readonly error: string | undefined;
  readonly loading: boolean;
  reload(): void;
}

export function useApi<T>(path: string | undefined): ApiResource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(path !== undefined);
  const [generation, setGeneration] = useState(0);
  const controller = useRef<AbortController | undefined>(undefined);
  useEffect(() => {
    if (path === undefined) return;
    controller.current?.abort();
    const c = new AbortController();
    controller.current = c;
    setLoading(true);
    get<T>(path, c.signal).then(
      (value) => {
        if (c.signal.aborted) return;
        setData(value);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (c.signal.aborted || (e as Error).name === 'AbortError') return;
        setError(describeError(e));
        setLoading(false);
      },
    );
    return () => c.abort();
  }, [path, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data, error, loading, reload };
}

/** Calls `fn` at most once per `ms` (trailing call kept), for reloads driven by the live feed. */
export function useThrottled(fn: () => void, ms: number): () => void {
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback(() => {
    const wait = last.current + ms - Date.now();
    if (wait <= 0) {
      last.current = Date.now();
      latest.current();
    } else if (timer.current === undefined) {
      timer.current = setTimeout(() => {
        timer.current = undefined;
        last.current = Date.now();
        latest.current();
      }, wait);
    }
  }, [ms]);
}
