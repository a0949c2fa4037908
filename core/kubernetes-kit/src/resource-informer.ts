/**
 * A list + watch cache of one resource type (the client-go Reflector/Informer model, thin):
 *
 * - list in pages (`limit`/`continue`), remember the list's resourceVersion;
 * - watch from it with `allowWatchBookmarks=true`; every event and bookmark moves the
 *   resourceVersion on, so a renewed watch resumes without a new list;
 * - a 410 Gone (as an ERROR event or as the answer to a list continue) forces a fresh list;
 *   objects that vanished meanwhile are reported as deleted;
 * - failures back off exponentially with full jitter (`backoffDelayMs` of `@sextant/plugin-kit`:
 *   `random(0, min(max, base * 2^n))`); a 429
 *   waits at least its Retry-After; a 401 reloads credentials first; a 403 is reported once, with
 *   the rule that is missing, and retried slowly — the other informers are not affected.
 *
 * The cache keeps objects after `transform`, which strips what nobody reads (managedFields,
 * last-applied annotations) to keep memory proportional to what is used.
 */
import { backoffDelayMs } from '@sextant/plugin-kit';
import { KubeApiError, type KubeConnection, type WatchStream } from './kube-connection.js';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec?: any;
  status?: any;
  [key: string]: unknown;
}

/** One resource type: where it lives and how to name it in RBAC terms. */
export interface ResourceRef {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  /** Lower-case plural: `pods`. */
  readonly plural: string;
}

export interface InformerHandlers {
  onAdd?(obj: KubeObject): void;
  onUpdate?(obj: KubeObject, old: KubeObject): void;
  onDelete?(obj: KubeObject): void;
  /** After each complete list (first sync and every re-list). */
  onSynced?(): void;
  /** A 403: `rule` is the missing RBAC rule in ClusterRole terms. */
  onForbidden?(rule: string, message: string): void;
  /** Any other failure; the informer retries by itself. */
  onError?(error: Error): void;
  /** A watch opened again after failures (without a new list). */
  onRecovered?(): void;
}

export interface InformerOptions {
  readonly namespace?: string;
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
  readonly pageSize: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  readonly watchTimeoutMs: number;
  readonly transform?: (obj: KubeObject) => KubeObject;
  /** How long to wait after a 403 before asking again. Default 5 min. */
  readonly forbiddenRetryMs?: number;
  readonly random?: () => number;
}

export interface InformerStats {
  lists: number;
  relistsAfterGone: number;
  watchesOpened: number;
  events: number;
  bookmarks: number;
  errors: number;
}

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Drops fields no reporter reads. */
export function stripObject(obj: KubeObject): KubeObject {
  const meta = obj.metadata as KubeObject['metadata'] & { managedFields?: unknown };
  if (meta.managedFields) delete meta.managedFields;
  if (meta.annotations?.['kubectl.kubernetes.io/last-applied-configuration']) {
    const { ['kubectl.kubernetes.io/last-applied-configuration']: _dropped, ...rest } = meta.annotations;
    meta.annotations = rest;
  }
  return obj;
}

export function resourcePath(ref: ResourceRef, namespace?: string): string {
  const base = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  return namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${ref.plural}` : `${base}/${ref.plural}`;
}

export class ResourceInformer {
  private readonly cache = new Map<string, KubeObject>();
  private resourceVersion = '';
  private stream: WatchStream | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private running = false;
  private synced = false;
  private forbiddenReported = false;
  readonly stats: InformerStats = { lists: 0, relistsAfterGone: 0, watchesOpened: 0, events: 0, bookmarks: 0, errors: 0 };

  constructor(
    private readonly connection: KubeConnection,
    readonly ref: ResourceRef,
    private readonly options: InformerOptions,
    private readonly handlers: InformerHandlers,
  ) {}

  get hasSynced(): boolean {
    return this.synced;
  }

  get size(): number {
    return this.cache.size;
  }

  list(): IterableIterator<KubeObject> {
    return this.cache.values();
  }

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.cache.get(`${namespace ?? ''}/${name}`);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.cycle();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.stream?.close();
    this.stream = undefined;
  }

  private get path(): string {
    return resourcePath(this.ref, this.options.namespace);
  }

  private selectors(): Record<string, string | undefined> {
    return { fieldSelector: this.options.fieldSelector, labelSelector: this.options.labelSelector };
  }

  private async cycle(): Promise<void> {
    if (!this.running) return;
    try {
      if (!this.resourceVersion) await this.relist();
      if (!this.running) return;
      await this.openWatch();
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private async relist(): Promise<void> {
    const fresh = new Map<string, KubeObject>();
    let token: string | undefined;
    let rv = '';
    do {
      const page = await this.connection.request<{ metadata?: { resourceVersion?: string; continue?: string }; items?: KubeObject[] }>('GET', this.path, {
        query: { ...this.selectors(), limit: String(this.options.pageSize), continue: token },
      });
      for (const item of page.items ?? []) {
        if (!item?.metadata?.name) continue;
        const obj = this.options.transform ? this.options.transform(item) : item;
        fresh.set(keyOf(obj), obj);
      }
      token = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
    } while (token && this.running);
    this.stats.lists++;
    // Replace the cache: report what appeared, changed and disappeared since the last view.
    for (const [key, old] of this.cache) {
      if (!fresh.has(key)) {
        this.cache.delete(key);
        this.handlers.onDelete?.(old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) this.handlers.onAdd?.(obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.handlers.onUpdate?.(obj, old);
    }
    this.resourceVersion = rv;
    this.synced = true;
    this.handlers.onSynced?.();
  }

  private async openWatch(): Promise<void> {
    const timeoutSeconds = Math.round((this.options.watchTimeoutMs * (1 + this.random())) / 1000);
    this.stream = await this.connection.watch(
      this.path,
      { ...this.selectors(), resourceVersion: this.resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: String(timeoutSeconds) },
      (event) => this.onEvent(event),
      (error) => {
        this.stream = undefined;
        if (!this.running) return;
        if (error) this.fail(error);
        else this.schedule(0); // a clean end (timeout, 410 ERROR seen): resume or re-list
      },
    );
    this.stats.watchesOpened++;
    const recovered = this.failures > 0 || this.forbiddenReported;
    this.failures = 0;
    this.forbiddenReported = false;
    if (recovered) this.handlers.onRecovered?.();
  }

  private onEvent(event: { type: string; object: any }): void {
    const obj = event.object as KubeObject | undefined;
    if (event.type === 'ERROR') {
      const status = event.object as { code?: number; message?: string } | undefined;
      if (status?.code === 410) {
        this.resourceVersion = '';
        this.stats.relistsAfterGone++;
      } else {
        this.stats.errors++;
        this.handlers.onError?.(new KubeApiError(status?.code ?? 500, 'WatchError', `watch ${this.path}: ${status?.message ?? 'error event'}`));
      }
      this.stream?.close();
      this.stream = undefined;
      this.schedule(0);
      return;
    }
    if (!obj?.metadata) return;
    const rv = obj.metadata.resourceVersion;
    if (event.type === 'BOOKMARK') {
      this.stats.bookmarks++;
      if (rv) this.resourceVersion = rv;
      return;
    }
    if (!obj.metadata.name) return;
    this.stats.events++;
    const stored = this.options.transform ? this.options.transform(obj) : obj;
    const key = keyOf(stored);
    if (event.type === 'ADDED' || event.type === 'MODIFIED') {
      const old = this.cache.get(key);
      this.cache.set(key, stored);
      if (old) this.handlers.onUpdate?.(stored, old);
      else this.handlers.onAdd?.(stored);
    } else if (event.type === 'DELETED') {
      const old = this.cache.get(key);
      this.cache.delete(key);
      this.handlers.onDelete?.(old ?? stored);
    }
    if (rv) this.resourceVersion = rv;
  }

  private random(): number {
    return (this.options.random ?? Math.random)();
  }

  private fail(error: Error): void {
    if (!this.running) return;
    this.stats.errors++;
    const api = error instanceof KubeApiError ? error : undefined;
    if (api?.status === 410) {
      // A list continue token or watch resourceVersion that is too old: start over.
      this.resourceVersion = '';
      this.stats.relistsAfterGone++;
      this.schedule(0);
      return;
    }
    if (api?.status === 403) {
      if (!this.forbiddenReported) {
        this.forbiddenReported = true;
        this.handlers.onForbidden?.(missingRule(this.ref, this.options.namespace), api.message);
      }
      this.schedule(this.options.forbiddenRetryMs ?? 300_000);
      return;
    }
    if (api?.status === 401) this.connection.reloadCredentials();
    this.handlers.onError?.(error);
    this.failures++;
    let delay = backoffDelayMs(this.failures, { initialMs: this.options.backoffMinMs, maxMs: this.options.backoffMaxMs, jitter: 1 }, () => this.random());
    if (api?.retryAfterSeconds) delay = Math.max(delay, api.retryAfterSeconds * 1000);
    this.schedule(delay);
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.cycle();
    }, ms);
    this.timer.unref?.();
  }
}

/** The ClusterRole rule that would allow this informer: `list,watch on "deployments" in API group "apps"`. */
export function missingRule(ref: ResourceRef, namespace?: string): string {
  return `list, watch on "${ref.plural}" in API group "${ref.group}"${namespace ? ` in namespace "${namespace}"` : ''}`;
}
