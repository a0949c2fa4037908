/** Bounds a plugin call (register, create, start, shutdown) that might never settle. */
import type { SextantError } from '@sextant/plugin-api';

/**
 * Settles like `promise`, or rejects with `onTimeout()` after `ms`. The call itself keeps running:
 * JavaScript cannot cancel it; the caller aborts the component's signal when that matters.
 */
export function withTimeout<T>(promise: Promise<T> | T, ms: number, onTimeout: () => SextantError): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    Promise.resolve(promise).then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
