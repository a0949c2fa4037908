/**
 * Script-tag entry. Configuration, first found wins: `window.sextantRumConfig = { endpoint, page }`,
 * then the tag's `data-endpoint` / `data-page`, then the endpoint next to the script's own URL
 * (`.../rum/v1/sextant-rum.js` -> `.../rum/v1/collect`).
 *
 * Calls made before the script loaded are queued by the one-line stub
 * `window.sextant = window.sextant || function () { (sextant.q = sextant.q || []).push(arguments) }`
 * and replayed: `sextant('purchase', {...})`, `sextant('page', 'checkout')`. After load,
 * `window.sextantRum` is the API ({ track, page, flush }).
 */
import { init, type RumApi } from './rum.js';

type Command = ArrayLike<unknown>;
interface RumWindow {
  sextantRumConfig?: { endpoint?: string; page?: string; flushMs?: number };
  sextant?: ((...args: unknown[]) => void) & { q?: Command[] };
  sextantRum?: RumApi;
}

(() => {
  try {
    const w = window as unknown as RumWindow;
    const script = document.currentScript as HTMLScriptElement | null;
    const cfg = w.sextantRumConfig || {};
    const endpoint = cfg.endpoint || (script && script.dataset.endpoint) || (script && script.src ? new URL('collect', script.src).href : '');
    if (!endpoint) return;
    const rum = init({ endpoint, page: cfg.page || (script && script.dataset.page) || undefined, flushMs: cfg.flushMs });
    const run = (args: Command): void => {
      if (args[0] === 'page') rum.page(String(args[1]));
      else rum.track(String(args[0]), args[1] as Record<string, unknown> | undefined);
    };
    const queued = (w.sextant && w.sextant.q) || [];
    w.sextantRum = rum;
    w.sextant = (...args: unknown[]) => run(args);
    for (const args of queued) run(args);
  } catch {
    // never into the page
  }
})();
