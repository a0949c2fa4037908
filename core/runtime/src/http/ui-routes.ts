/**
 * The routes the web UI needs on top of the JSON API: its static files at `/`, the live stream
 * (GET /api/v1/stream), the list of silences (GET /api/v1/silences), what autodiscovery starts
 * and why (GET /api/v1/autodiscovery) and which notifications went out for an incident
 * (GET /api/v1/incidents/{id}/notifications). Kept apart from api-server.ts, which calls `addUiRoutes` once.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@sextant/plugin-api';
import { uiAssetsDir } from '@sextant/ui';
import type { Runtime } from '../runtime/runtime.js';
import { autodiscoveryView } from './autodiscovery-view.js';
import { LiveStream, type LiveStreamOptions } from './live-stream.js';
import { SILENCE_EVENT_TYPES, silenceViews } from './silence-list.js';
import { UiAssets } from './ui-assets.js';

interface Routable {
  route(method: string, pattern: RegExp, handler: (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void> | void): void;
}

export interface UiRouteOptions {
  /** Folder of the built UI; `false` serves no UI (API only). Default: @sextant/ui's build. */
  readonly ui?: string | false;
  readonly live?: LiveStreamOptions;
}

/** Adds the UI's routes to `api`; returns the live stream so the server can end it on close. */
export function addUiRoutes(api: Routable, runtime: Runtime, options: UiRouteOptions = {}): LiveStream {
  const live = new LiveStream(runtime, options.live);
  api.route('GET', /^\/api\/v1\/stream$/, (req, res) => live.handle(req, res));
  api.route('GET', /^\/api\/v1\/silences$/, (_req, res) => {
    const list = silenceViews(runtime.pipeline.events.query({ limit: 100_000, where: (e) => SILENCE_EVENT_TYPES.has(e.type) }), runtime.clock.now());
    const text = JSON.stringify({ silences: list });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  api.route('GET', /^\/api\/v1\/incidents\/([^/]+)\/notifications$/, (_req, res, params) => {
    const id = decodeURIComponent(params[0]);
    const known = runtime.pipeline.incidents.has(id);
    const text = JSON.stringify(
      known
        ? { incident: id, notifications: runtime.dispatcher.deliveries.of(id) }
        : { error: { code: ErrorCode.BAD_REQUEST, message: `no incident ${id}`, hint: 'list them with GET /api/v1/incidents' } },
    );
    res.writeHead(known ? 200 : 404, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  api.route('GET', /^\/api\/v1\/autodiscovery$/, (_req, res) => {
    const text = JSON.stringify(autodiscoveryView(runtime));
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  if (options.ui !== false) {
    const assets = new UiAssets(options.ui ?? uiAssetsDir());
    api.route('GET', /^\/(?:index\.html)?$/, (req, res) => assets.page(req, res));
    api.route('GET', /^\/assets\/([^/]+)$/, (req, res, params) => assets.asset(req, res, decodeURIComponent(params[0])));
  }
  return live;
}
