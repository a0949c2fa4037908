/**
 * The HTTP side of the stand-in: routing by the Kubernetes API path conventions, authentication,
 * authorisation, list (with limit/continue over a consistent snapshot), watch (initial events,
 * replay from a resourceVersion, bookmarks, 410 Gone as an ERROR event after compaction), create,
 * update (optimistic concurrency), patch (JSON merge patch) and delete, with metav1.Status errors.
 *
 * Deliberate limits, stated so nobody mistakes them for the real thing: strategic-merge patches
 * are applied as JSON merge patches (lists are replaced, not merged); server-side apply, JSON
 * patch, protobuf and admission are not served (415); OpenAPI v3 documents are skeletons (kinds,
 * operations, parameters) with open object schemas; there is no OpenAPI v2.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  alreadyExists,
  badRequest,
  conflict,
  continueExpired,
  expired,
  failure,
  methodNotAllowed,
  notFound,
  tooManyRequests,
  unauthorized,
  type ApiStatus,
} from './api-status.js';
import { ObjectStore, type Change, type KubeObject } from './object-store.js';
import { allowed, forbidden, type AccessRequest, type Identity } from './rbac.js';
import { openApiDocument, openApiRoot } from './openapi.js';
import { apiGroupList, apiResourceList, apiVersionOf, RESOURCE_TYPES, type ResourceType } from './resources.js';
import { parseFieldSelector, parseLabelSelector, type Selector } from './selectors.js';
import { tableOf } from './table.js';

export type StandinMode = 'kubernetes' | 'openshift';

export interface ApiServerOptions {
  readonly mode?: StandinMode;
  /** Bearer token -> identity. Requests without a known token get 401. */
  readonly identities?: Record<string, Identity>;
  /** How often a watch that asked for bookmarks gets one. Real servers: about a minute. Default 1000 ms. */
  readonly bookmarkIntervalMs?: number;
  /** Replayable history length before automatic compaction. */
  readonly maxHistory?: number;
  /** Version reported by `GET /version`. */
  readonly gitVersion?: string;
}

/** Serves `GET /api/v1/nodes/{node}/proxy/stats/summary`; undefined -> 404. */
export type SummaryProvider = (node: string) => Record<string, unknown> | undefined;

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly status: number;
}

interface ParsedPath {
  readonly type: ResourceType;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
  /** Path after the subresource (`stats/summary` for node proxy). */
  readonly rest?: string;
}

interface WatchConnection {
  readonly res: ServerResponse;
  close(): void;
}

const MAX_BODY = 3 * 1024 * 1024;
const typeKeyOf = (t: ResourceType) => `${t.group}/${t.plural}`;

export class KubeApiServer {
  readonly store: ObjectStore;
  readonly mode: StandinMode;
  /** Every request answered, for tests that check what a client asked for. */
  readonly requests: RequestRecord[] = [];
  private readonly identities = new Map<string, Identity>();
  private readonly types: readonly ResourceType[];
  private readonly watches = new Set<WatchConnection>();
  private readonly snapshots = new Map<string, { revision: number; items: KubeObject[] }>();
  private summaryProvider: SummaryProvider = () => undefined;
  private throttle = { remaining: 0, retryAfterSeconds: 1 };
  private server: Server | undefined;
  private readonly sockets = new Set<import('node:net').Socket>();
  private bookmarkIntervalMs: number;

  constructor(private readonly options: ApiServerOptions = {}) {
    this.mode = options.mode ?? 'kubernetes';
    this.types = RESOURCE_TYPES.filter((t) => !t.openshift || this.mode === 'openshift');
    this.store = new ObjectStore(options.maxHistory);
    this.bookmarkIntervalMs = options.bookmarkIntervalMs ?? 1000;
    for (const [token, identity] of Object.entries(options.identities ?? {})) this.identities.set(token, identity);
  }

  // ---------------------------------------------------------------------------- test controls

  setIdentity(token: string, identity: Identity): void {
    this.identities.set(token, identity);
  }

  /** Revokes a token: its next request gets 401 (an expired or rotated service-account token). */
  revokeToken(token: string): void {
    this.identities.delete(token);
  }

  setSummaryProvider(provider: SummaryProvider): void {
    this.summaryProvider = provider;
  }

  /** The next `count` requests get 429 with Retry-After. */
  throttleNext(count: number, retryAfterSeconds = 1): void {
    this.throttle = { remaining: count, retryAfterSeconds };
  }

  /** Cuts every open watch stream mid-way (TCP reset, no final event), as a dying LB does. */
  breakWatches(): number {
    const n = this.watches.size;
    for (const w of [...this.watches]) {
      w.res.socket?.destroy();
      w.close();
    }
    return n;
  }

  get openWatches(): number {
    return this.watches.size;
  }

  /** Compacts history and drops list snapshots: older watches and continue tokens get 410. */
  compact(): void {
    this.store.compact();
    this.snapshots.clear();
  }

  resourceType(group: string, plural: string): ResourceType {
    const t = this.types.find((x) => x.group === group && x.plural === plural);
    if (!t) throw new Error(`the stand-in does not serve ${plural} in group "${group}" (mode ${this.mode})`);
    return t;
  }

  typeKey(group: string, plural: string): string {
    return typeKeyOf(this.resourceType(group, plural));
  }

  // ---------------------------------------------------------------------------- lifecycle

  /**
   * Serves HTTPS with `tls` (PEM key and certificate): client-go (kubectl) never sends a bearer token
   * over plain HTTP.
   */
  async listen(tls: { key: string; cert: string }, port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) this.send(res, req, failure(500, 'InternalError', `Internal error occurred: ${String(e)}`));
        else res.destroy();
      });
    });
    this.server.keepAliveTimeout = 60_000;
    // Every socket, including ones still in the TLS handshake, so close() can end them all.
    this.server.on('connection', (socket: import('node:net').Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const addr = this.server.address() as AddressInfo;
    return `https://${host}:${addr.port}`;
  }

  async close(): Promise<void> {
    for (const w of [...this.watches]) {
      w.close();
      w.res.destroy();
    }
    if (!this.server) return;
    const closed = new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await closed;
    this.server = undefined;
  }

  // ---------------------------------------------------------------------------- routing

  private send(res: ServerResponse, req: IncomingMessage, body: unknown, status?: number, headers: Record<string, string> = {}): void {
    const code = status ?? ((body as ApiStatus).kind === 'Status' ? (body as ApiStatus).code : 200);
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), status: code });
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache, private', ...headers });
    res.end(text);
  }

  private authenticate(req: IncomingMessage): Identity | undefined {
    const header = req.headers.authorization ?? '';
    const m = header.match(/^Bearer\s+(.+)$/i);
    return m ? this.identities.get(m[1]!.trim()) : undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/healthz' || path === '/readyz' || path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    const identity = this.authenticate(req);
    if (!identity) return this.send(res, req, unauthorized());
    if (this.throttle.remaining > 0) {
      this.throttle.remaining--;
      return this.send(res, req, tooManyRequests(this.throttle.retryAfterSeconds), undefined, { 'retry-after': String(this.throttle.retryAfterSeconds) });
    }
    if (path === '/version') {
      return this.send(res, req, {
        major: '1',
        minor: '31',
        gitVersion: this.options.gitVersion ?? 'v1.31.0-sextant-standin',
        gitCommit: '0000000000000000000000000000000000000000',
        gitTreeState: 'clean',
        buildDate: '2026-01-01T00:00:00Z',
        goVersion: 'go1.22.0',
        compiler: 'gc',
        platform: 'linux/amd64',
      });
    }
    if (path === '/openapi/v3') return this.send(res, req, openApiRoot(this.types));
    if (path.startsWith('/openapi/v3/')) {
      const doc = openApiDocument(this.types, path.slice('/openapi/v3/'.length));
      return this.send(res, req, doc ?? failure(404, 'NotFound', 'the server could not find the requested resource'));
    }
    if (path === '/api') return this.send(res, req, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }] });
    if (path === '/apis') return this.send(res, req, apiGroupList(this.types));
    const gv = path.match(/^\/api\/(v1)$/) ?? path.match(/^\/apis\/([^/]+\/[^/]+)$/);
    if (gv) {
      const list = apiResourceList(this.types, gv[1]!);
      if ((list.resources as unknown[]).length === 0) return this.send(res, req, failure(404, 'NotFound', 'the server could not find the requested resource'));
      return this.send(res, req, list);
    }
    const group = path.match(/^\/apis\/([^/]+)$/);
    if (group) {
      const g = (apiGroupList(this.types).groups as { name: string }[]).find((x) => x.name === group[1]);
      if (!g) return this.send(res, req, failure(404, 'NotFound', 'the server could not find the requested resource'));
      return this.send(res, req, { kind: 'APIGroup', apiVersion: 'v1', ...g });
    }
    const parsed = this.parsePath(path);
    if (!parsed) return this.send(res, req, failure(404, 'NotFound', 'the server could not find the requested resource'));
    const method = req.method ?? 'GET';
    const watch = url.searchParams.get('watch') === '1' || url.searchParams.get('watch') === 'true';
    const verb =
      method === 'GET' ? (parsed.name ? 'get' : watch ? 'watch' : 'list') : method === 'POST' ? 'create' : method === 'PUT' ? 'update' : method === 'PATCH' ? 'patch' : method === 'DELETE' ? 'delete' : '';
    if (!verb) return this.send(res, req, methodNotAllowed());
    const access: AccessRequest = {
      verb,
      group: parsed.type.group,
      resource: parsed.subresource ? `${parsed.type.plural}/${parsed.subresource}` : parsed.type.plural,
      ...(parsed.namespace ? { namespace: parsed.namespace } : {}),
      ...(parsed.name ? { name: parsed.name } : {}),
    };
    if (!allowed(identity, access)) return this.send(res, req, forbidden(identity.user, access));

    if (parsed.subresource === 'proxy') return this.proxy(req, res, parsed);
    if (parsed.subresource && !(parsed.type.subresources ?? []).includes(parsed.subresource)) {
      return this.send(res, req, failure(404, 'NotFound', 'the server could not find the requested resource'));
    }
    switch (verb) {
      case 'list':
        return this.list(req, res, parsed, url.searchParams);
      case 'watch':
        return this.watch(req, res, parsed, url.searchParams);
      case 'get':
        return this.getOne(req, res, parsed);
      case 'create':
        return this.create(req, res, parsed);
      case 'update':
        return this.replace(req, res, parsed);
      case 'patch':
        return this.patch(req, res, parsed);
      case 'delete':
        return this.remove(req, res, parsed);
    }
  }

  private parsePath(path: string): ParsedPath | undefined {
    let m = path.match(/^\/api\/v1\/(.+)$/);
    let group = '';
    let version = 'v1';
    if (!m) {
      m = path.match(/^\/apis\/([^/]+)\/([^/]+)\/(.+)$/);
      if (!m) return undefined;
      group = m[1]!;
      version = m[2]!;
      m = [m[0], m[3]!] as unknown as RegExpMatchArray;
    }
    const segs = m[1]!.split('/').map(decodeURIComponent);
    const find = (plural: string) => this.types.find((t) => t.group === group && t.version === version && t.plural === plural);
    if (segs[0] === 'namespaces' && segs.length >= 3) {
      const type = find(segs[2]!);
      if (!type || !type.namespaced) return undefined;
      return { type, namespace: segs[1]!, ...(segs[3] ? { name: segs[3] } : {}), ...(segs[4] ? { subresource: segs[4] } : {}), ...(segs.length > 5 ? { rest: segs.slice(5).join('/') } : {}) };
    }
    const type = find(segs[0]!);
    if (!type) return undefined;
    // A namespaced type listed across all namespaces (`/api/v1/pods`) has no name segment.
    if (type.namespaced && segs.length > 1) return undefined;
    return { type, ...(segs[1] ? { name: segs[1] } : {}), ...(segs[2] ? { subresource: segs[2] } : {}), ...(segs.length > 3 ? { rest: segs.slice(3).join('/') } : {}) };
  }

  // ---------------------------------------------------------------------------- verbs

  private selectors(req: IncomingMessage, res: ServerResponse, q: URLSearchParams): Selector | undefined {
    try {
      const labels = parseLabelSelector(q.get('labelSelector'));
      const fields = parseFieldSelector(q.get('fieldSelector'));
      return (o) => labels(o) && fields(o);
    } catch (e) {
      this.send(res, req, badRequest((e as Error).message));
      return undefined;
    }
  }

  private wantsTable(req: IncomingMessage): boolean {
    return /as=Table/.test(String(req.headers.accept ?? ''));
  }

  private list(req: IncomingMessage, res: ServerResponse, p: ParsedPath, q: URLSearchParams): void {
    const select = this.selectors(req, res, q);
    if (!select) return;
    const limit = Number(q.get('limit') ?? 0);
    const token = q.get('continue');
    let revision: number;
    let items: KubeObject[];
    let offset = 0;
    let snapId: string | undefined;
    if (token) {
      let decoded: { rv: number; snap: string; offset: number };
      try {
        decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof decoded;
      } catch {
        return this.send(res, req, badRequest('continue key is not valid: illegal base64 data'));
      }
      const snap = this.snapshots.get(decoded.snap);
      if (!snap || decoded.rv < this.store.oldestRevision) return this.send(res, req, continueExpired());
      revision = snap.revision;
      items = snap.items;
      offset = decoded.offset;
      snapId = decoded.snap;
    } else {
      revision = this.store.currentRevision;
      items = this.store.list(typeKeyOf(p.type), p.namespace).filter(select);
    }
    const page = limit > 0 ? items.slice(offset, offset + limit) : items.slice(offset);
    const next = offset + page.length;
    const metadata: Record<string, unknown> = { resourceVersion: String(revision) };
    if (limit > 0 && next < items.length) {
      if (!snapId) {
        snapId = randomBytes(8).toString('hex');
        this.snapshots.set(snapId, { revision, items });
        if (this.snapshots.size > 64) this.snapshots.delete(this.snapshots.keys().next().value!);
      }
      metadata.continue = Buffer.from(JSON.stringify({ rv: revision, snap: snapId, offset: next })).toString('base64url');
      metadata.remainingItemCount = items.length - next;
    }
    if (this.wantsTable(req)) return this.send(res, req, tableOf(p.type.kind, page, String(revision), q.get('includeObject')));
    this.send(res, req, { kind: `${p.type.kind}List`, apiVersion: apiVersionOf(p.type), metadata, items: page });
  }

  private watch(req: IncomingMessage, res: ServerResponse, p: ParsedPath, q: URLSearchParams): void {
    const select = this.selectors(req, res, q);
    if (!select) return;
    const typeKey = typeKeyOf(p.type);
    const table = this.wantsTable(req);
    const includeObject = q.get('includeObject');
    const rv = q.get('resourceVersion') ?? '';
    const matches = (o: KubeObject) => (p.namespace === undefined || o.metadata.namespace === p.namespace) && select(o);
    const encode = (type: string, obj: KubeObject) => JSON.stringify({ type, object: table ? tableOf(p.type.kind, [obj], obj.metadata.resourceVersion ?? '', includeObject) : obj }) + '\n';

    this.requests.push({ method: 'GET', path: new URL(req.url ?? '/', 'http://x').pathname, query: Object.fromEntries(q), status: 200 });
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache, private' });
    res.flushHeaders();

    let backlog: Change[] = [];
    if (rv === '' || rv === '0') {
      for (const o of this.store.list(typeKey, p.namespace)) if (select(o)) res.write(encode('ADDED', o));
    } else {
      const since = this.store.changesSince(typeKey, Number(rv));
      if (since === 'expired' || !Number.isFinite(Number(rv))) {
        res.end(JSON.stringify({ type: 'ERROR', object: expired(rv, String(this.store.oldestRevision)) }) + '\n');
        return;
      }
      backlog = since;
    }
    for (const c of backlog) if (matches(c.object)) res.write(encode(c.type, c.object));

    const unsubscribe = this.store.onChange((c) => {
      if (c.typeKey === typeKey && matches(c.object)) res.write(encode(c.type, c.object));
    });
    const timers: NodeJS.Timeout[] = [];
    if (q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1') {
      timers.push(
        setInterval(() => {
          const bookmark = { kind: p.type.kind, apiVersion: apiVersionOf(p.type), metadata: { resourceVersion: String(this.store.currentRevision) } };
          res.write(JSON.stringify({ type: 'BOOKMARK', object: bookmark }) + '\n');
        }, this.bookmarkIntervalMs),
      );
    }
    const timeoutSeconds = Number(q.get('timeoutSeconds') ?? 0);
    const conn: WatchConnection = {
      res,
      close: () => {
        unsubscribe();
        for (const t of timers) clearInterval(t), clearTimeout(t);
        this.watches.delete(conn);
        if (!res.writableEnded) res.end();
      },
    };
    if (timeoutSeconds > 0) timers.push(setTimeout(() => conn.close(), timeoutSeconds * 1000));
    this.watches.add(conn);
    req.on('close', () => conn.close());
    res.on('close', () => conn.close());
  }

  private getOne(req: IncomingMessage, res: ServerResponse, p: ParsedPath): void {
    const obj = this.store.get(typeKeyOf(p.type), p.namespace, p.name!);
    if (!obj) return this.send(res, req, notFound(p.type.plural, p.type.group, p.name!));
    if (p.subresource === 'scale') return this.send(res, req, this.scaleOf(obj));
    if (this.wantsTable(req)) return this.send(res, req, tableOf(p.type.kind, [obj], obj.metadata.resourceVersion ?? '', null));
    this.send(res, req, obj);
  }

  private scaleOf(obj: KubeObject): Record<string, unknown> {
    const spec = obj.spec as { replicas?: number } | undefined;
    const status = obj.status as { replicas?: number } | undefined;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion, creationTimestamp: obj.metadata.creationTimestamp },
      spec: { replicas: spec?.replicas ?? 0 },
      status: { replicas: status?.replicas ?? 0 },
    };
  }

  private async readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) throw Object.assign(new Error('request entity too large'), { status: 413 });
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? JSON.parse(text) : undefined;
  }

  private async body(req: IncomingMessage, res: ServerResponse): Promise<KubeObject | undefined> {
    try {
      const b = await this.readBody(req);
      if (!b || typeof b !== 'object' || Array.isArray(b)) throw new Error('Object expected');
      return b as KubeObject;
    } catch (e) {
      const status = (e as { status?: number }).status;
      this.send(res, req, status === 413 ? failure(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728') : badRequest(`the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (${(e as Error).message})`));
      return undefined;
    }
  }

  private checkShape(req: IncomingMessage, res: ServerResponse, p: ParsedPath, obj: KubeObject): boolean {
    const [kind, apiVersion] = p.subresource === 'scale' ? ['Scale', 'autoscaling/v1'] : [p.type.kind, apiVersionOf(p.type)];
    if (obj.kind !== kind || obj.apiVersion !== apiVersion) {
      this.send(res, req, badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersion})`));
      return false;
    }
    obj.metadata ??= { name: '' };
    if (p.namespace && obj.metadata.namespace && obj.metadata.namespace !== p.namespace) {
      this.send(res, req, badRequest('the namespace of the provided object does not match the namespace sent on the request'));
      return false;
    }
    if (p.type.namespaced) obj.metadata.namespace = p.namespace;
    else delete obj.metadata.namespace;
    return true;
  }

  private async create(req: IncomingMessage, res: ServerResponse, p: ParsedPath): Promise<void> {
    if (p.name) return this.send(res, req, methodNotAllowed());
    const obj = await this.body(req, res);
    if (!obj || !this.checkShape(req, res, p, obj)) return;
    const generateName = obj.metadata.generateName;
    if (!obj.metadata.name && typeof generateName === 'string') obj.metadata.name = `${generateName}${randomBytes(3).toString('hex').slice(0, 5)}`;
    if (!obj.metadata.name) return this.send(res, req, failure(422, 'Invalid', `${p.type.kind} "" is invalid: metadata.name: Required value: name or generateName is required`, { kind: p.type.kind }));
    if (p.namespace && !this.store.peek('/namespaces', undefined, p.namespace)) return this.send(res, req, notFound('namespaces', '', p.namespace));
    const created = this.store.create(typeKeyOf(p.type), obj);
    if (!created) return this.send(res, req, alreadyExists(p.type.plural, p.type.group, obj.metadata.name));
    this.send(res, req, created, 201);
  }

  private async replace(req: IncomingMessage, res: ServerResponse, p: ParsedPath): Promise<void> {
    const obj = await this.body(req, res);
    if (!obj || !this.checkShape(req, res, p, obj)) return;
    if (obj.metadata.name !== p.name) return this.send(res, req, badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${p.name})`));
    this.commitUpdate(req, res, p, obj, obj.metadata.resourceVersion);
  }

  private commitUpdate(req: IncomingMessage, res: ServerResponse, p: ParsedPath, obj: KubeObject, expectedVersion: string | undefined): void {
    const key = typeKeyOf(p.type);
    const old = this.store.peek(key, p.namespace, p.name!);
    if (!old) return this.send(res, req, notFound(p.type.plural, p.type.group, p.name!));
    const hasStatus = (p.type.subresources ?? []).includes('status');
    // The main resource cannot change status and the status subresource cannot change anything else.
    if (hasStatus && p.subresource !== 'status' && old.status !== undefined) obj.status = old.status;
    if (p.subresource === 'status') obj = { ...structuredClone(old), status: obj.status };
    if (p.subresource === 'scale') {
      // autoscaling/v1 Scale in, the object's spec.replicas changed, the Scale out.
      const replicas = (obj.spec as { replicas?: unknown } | undefined)?.replicas;
      if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) return this.send(res, req, failure(422, 'Invalid', `Scale.autoscaling "${p.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`));
      obj = structuredClone(old);
      (obj.spec as { replicas: number }).replicas = replicas;
    }
    const bumpGeneration = JSON.stringify(old.spec) !== JSON.stringify(obj.spec);
    const result = this.store.update(key, obj, { ...(expectedVersion ? { expectedVersion } : {}), bumpGeneration });
    if (result === 'not-found') return this.send(res, req, notFound(p.type.plural, p.type.group, p.name!));
    if (result === 'conflict') return this.send(res, req, conflict(p.type.plural, p.type.group, p.name!));
    this.send(res, req, p.subresource === 'scale' ? this.scaleOf(result) : result);
  }

  private async patch(req: IncomingMessage, res: ServerResponse, p: ParsedPath): Promise<void> {
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (type !== 'application/merge-patch+json' && type !== 'application/strategic-merge-patch+json') {
      return this.send(res, req, failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json`));
    }
    const old = this.store.get(typeKeyOf(p.type), p.namespace, p.name!);
    if (!old) return this.send(res, req, notFound(p.type.plural, p.type.group, p.name!));
    let patch: unknown;
    try {
      patch = await this.readBody(req);
    } catch (e) {
      return this.send(res, req, badRequest(String((e as Error).message)));
    }
    const merged = mergePatch(p.subresource === 'scale' ? this.scaleOf(old) : old, patch) as KubeObject;
    const expected = (patch as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
    this.commitUpdate(req, res, p, merged, expected);
  }

  private remove(req: IncomingMessage, res: ServerResponse, p: ParsedPath): void {
    if (!p.name) return this.send(res, req, methodNotAllowed());
    const gone = this.store.delete(typeKeyOf(p.type), p.namespace, p.name);
    if (!gone) return this.send(res, req, notFound(p.type.plural, p.type.group, p.name));
    this.send(res, req, gone);
  }

  private proxy(req: IncomingMessage, res: ServerResponse, p: ParsedPath): void {
    if (p.type.plural !== 'nodes' || !p.name) return this.send(res, req, failure(404, 'NotFound', 'the server could not find the requested resource'));
    if (!this.store.peek('/nodes', undefined, p.name)) return this.send(res, req, notFound('nodes', '', p.name));
    if (p.rest !== 'stats/summary') return this.send(res, req, failure(404, 'NotFound', 'the server could not find the requested resource'));
    const summary = this.summaryProvider(p.name);
    if (!summary) return this.send(res, req, failure(503, 'ServiceUnavailable', `error trying to reach service: dial tcp: connect: connection refused`));
    this.send(res, req, summary, 200);
  }
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
