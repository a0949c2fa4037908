/**
 * The routes the web UI needs on top of the JSON API: its static files at `/`, the live stream
 * (GET /api/v1/stream), the list of silences (GET /api/v1/silences), what autodiscovery starts
 * and why (GET /api/v1/autodiscovery) and which notifications went out for an incident
 * (GET /api/v1/incidents/{id}/notifications). Kept apart from api-server.ts, which calls `addUiRoutes` once.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ErrorCode } from '@sextant/plugin-api';
import { uiAssetsDir } from '@sextant/ui';
import type { Runtime } from '../runtime/runtime.js';
import { autodiscoveryView } from './autodiscovery-view.js';
import { apiError } from './http-errors.js';
import { LiveStream, type LiveStreamOptions } from './live-stream.js';
import { SILENCE_EVENT_TYPES, silenceViews } from './silence-list.js';
import { UiAssets, type ServedFile } from './ui-assets.js';

export interface UiRouteOptions {
  /** Folder of the built UI; `false` serves no UI (API only). Default: @sextant/ui's build. */
  readonly ui?: string | false;
  readonly live?: LiveStreamOptions;
}

/** Adds the UI's routes to `app`; returns the live stream so the server can end it on close. */
export function addUiRoutes(app: FastifyInstance, runtime: Runtime, options: UiRouteOptions = {}): LiveStream {
  const live = new LiveStream(runtime, options.live);
  app.get('/api/v1/stream', (request, reply) => {
    // Server-sent events write to the socket for as long as the client stays: Fastify hands it over.
    reply.hijack();
    live.handle(request.raw, reply.raw);
  });
  app.get('/api/v1/silences', async () => {
    const view = runtime.pipeline.groupView;
    const events = view ? (await view.windowEvents()).filter((e) => SILENCE_EVENT_TYPES.has(e.type)) : runtime.pipeline.events.query({ limit: 100_000, where: (e) => SILENCE_EVENT_TYPES.has(e.type) });
    return { silences: silenceViews(events, runtime.clock.now()) };
  });
  app.get<{ Params: { id: string } }>('/api/v1/incidents/:id/notifications', async (request) => {
    const id = request.params.id;
    const view = runtime.pipeline.groupView;
    if (!(view ? await view.incident(id) : runtime.pipeline.incidents.has(id))) throw apiError(404, ErrorCode.BAD_REQUEST, `no incident ${id}`, 'list them with GET /api/v1/incidents');
    return { incident: id, notifications: view?.notifications ? await view.notifications(id) : runtime.dispatcher.deliveries.of(id) };
  });
  app.get('/api/v1/autodiscovery', async () => autodiscoveryView(runtime));
  if (options.ui !== false) {
    const assets = new UiAssets(options.ui ?? uiAssetsDir());
    const send = (reply: FastifyReply, served: ServedFile) => reply.code(served.status).headers(served.headers).send(served.body);
    app.get('/', (request, reply) => send(reply, assets.page(request.headers['accept-encoding'])));
    app.get('/index.html', (request, reply) => send(reply, assets.page(request.headers['accept-encoding'])));
    app.get<{ Params: { name: string } }>('/assets/:name', (request, reply) => send(reply, assets.asset(request.params.name, request.headers['accept-encoding'])));
  }
  return live;
}
