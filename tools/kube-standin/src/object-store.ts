/**
 * A versioned object store with the semantics clients depend on: one cluster-wide, monotonically
 * increasing resourceVersion (like etcd's revision), a bounded history of changes that watches
 * replay from a resourceVersion, and compaction after which older resourceVersions are gone (410).
 */
import { randomUUID } from 'node:crypto';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  readonly revision: number;
  /** `group/plural`, e.g. `/pods`, `apps/deployments`. */
  readonly typeKey: string;
  readonly type: WatchEventType;
  readonly object: KubeObject;
}

export type ChangeListener = (change: Change) => void;

const keyOf = (meta: ObjectMeta) => `${meta.namespace ?? ''}/${meta.name}`;
const clone = <T>(v: T): T => structuredClone(v);

export class ObjectStore {
  private revision = 1;
  /** Changes after `compactedAt` are replayable. */
  private compactedAt = 1;
  private readonly history: Change[] = [];
  private readonly byType = new Map<string, Map<string, KubeObject>>();
  private readonly listeners = new Set<ChangeListener>();

  /** `maxHistory` bounds the replay log; older entries are compacted automatically. */
  constructor(private readonly maxHistory = 100_000) {}

  get currentRevision(): number {
    return this.revision;
  }

  get oldestRevision(): number {
    return this.compactedAt;
  }

  private table(typeKey: string): Map<string, KubeObject> {
    let t = this.byType.get(typeKey);
    if (!t) this.byType.set(typeKey, (t = new Map()));
    return t;
  }

  get(typeKey: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.table(typeKey).get(`${namespace ?? ''}/${name}`);
    return o ? clone(o) : undefined;
  }

  /** Objects of one type (optionally one namespace), ordered by namespace/name as the API server lists them. */
  list(typeKey: string, namespace?: string): KubeObject[] {
    const all = [...this.table(typeKey).entries()].filter(([, o]) => namespace === undefined || o.metadata.namespace === namespace);
    all.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return all.map(([, o]) => o);
  }

  /** Stored without cloning: callers must not mutate. */
  peek(typeKey: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.table(typeKey).get(`${namespace ?? ''}/${name}`);
  }

  private record(typeKey: string, type: WatchEventType, object: KubeObject): void {
    const change: Change = { revision: this.revision, typeKey, type, object };
    this.history.push(change);
    if (this.history.length > this.maxHistory) {
      const dropped = this.history.splice(0, this.history.length - this.maxHistory);
      this.compactedAt = dropped[dropped.length - 1]!.revision;
    }
    for (const l of this.listeners) l(change);
  }

  /** Stores a new object; returns undefined when one with that name exists. */
  create(typeKey: string, input: KubeObject, now = new Date()): KubeObject | undefined {
    const t = this.table(typeKey);
    const key = keyOf(input.metadata);
    if (t.has(key)) return undefined;
    const obj = clone(input);
    this.revision++;
    obj.metadata.uid = randomUUID();
    obj.metadata.resourceVersion = String(this.revision);
    obj.metadata.creationTimestamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
    obj.metadata.generation = 1;
    t.set(key, obj);
    this.record(typeKey, 'ADDED', obj);
    return clone(obj);
  }

  /**
   * Replaces an object. With `expectedVersion` set, fails with 'conflict' when the stored version
   * differs (optimistic concurrency). `bumpGeneration` when the spec changed.
   */
  update(typeKey: string, input: KubeObject, options: { expectedVersion?: string; bumpGeneration?: boolean } = {}): KubeObject | 'not-found' | 'conflict' {
    const t = this.table(typeKey);
    const key = keyOf(input.metadata);
    const old = t.get(key);
    if (!old) return 'not-found';
    if (options.expectedVersion && options.expectedVersion !== old.metadata.resourceVersion) return 'conflict';
    const obj = clone(input);
    this.revision++;
    obj.metadata.uid = old.metadata.uid;
    obj.metadata.creationTimestamp = old.metadata.creationTimestamp;
    obj.metadata.generation = (old.metadata.generation ?? 1) + (options.bumpGeneration ? 1 : 0);
    obj.metadata.resourceVersion = String(this.revision);
    t.set(key, obj);
    this.record(typeKey, 'MODIFIED', obj);
    return clone(obj);
  }

  delete(typeKey: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const t = this.table(typeKey);
    const key = `${namespace ?? ''}/${name}`;
    const old = t.get(key);
    if (!old) return undefined;
    t.delete(key);
    this.revision++;
    const gone = clone(old);
    gone.metadata.resourceVersion = String(this.revision);
    this.record(typeKey, 'DELETED', gone);
    return clone(gone);
  }

  /** Changes of one type after `revision`, or 'expired' when that revision was compacted away. */
  changesSince(typeKey: string, revision: number): Change[] | 'expired' {
    if (revision < this.compactedAt) return 'expired';
    const out: Change[] = [];
    for (let i = this.history.length - 1; i >= 0; i--) {
      const c = this.history[i]!;
      if (c.revision <= revision) break;
      if (c.typeKey === typeKey) out.push(c);
    }
    return out.reverse();
  }

  /** Forgets the history: a watch or continue token older than now gets 410 Gone. */
  compact(): void {
    this.history.length = 0;
    this.compactedAt = this.revision;
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
