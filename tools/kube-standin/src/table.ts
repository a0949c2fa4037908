/**
 * meta.k8s.io/v1 Table output, which `kubectl get` asks for (`Accept: ...;as=Table;v=v1;g=meta.k8s.io`).
 * Columns follow what the API server prints for the common kinds; everything else gets Name and Age.
 */
import type { KubeObject } from './object-store.js';

interface Column {
  readonly name: string;
  readonly type: string;
  readonly format?: string;
  readonly cell: (o: KubeObject, now: number) => unknown;
}

/** kubectl's short age format: 45s, 12m, 3h, 2d. */
export function humanAge(created: string | undefined, now: number): string {
  if (!created) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 3600 * 2) return `${Math.floor(s / 60)}m`;
  if (s < 86400 * 2) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const get = (o: unknown, path: string): any => path.split('.').reduce<any>((c, k) => (c == null ? undefined : c[k]), o);
const name: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name };
const age: Column = { name: 'Age', type: 'string', cell: (o, now) => humanAge(o.metadata.creationTimestamp, now) };

function podStatus(o: KubeObject): string {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  for (const c of (get(o, 'status.containerStatuses') ?? []) as any[]) {
    if (c.state?.waiting?.reason) return c.state.waiting.reason;
    if (c.state?.terminated?.reason) return c.state.terminated.reason;
  }
  return get(o, 'status.reason') ?? get(o, 'status.phase') ?? 'Unknown';
}

const COLUMNS: Record<string, Column[]> = {
  Pod: [
    name,
    { name: 'Ready', type: 'string', cell: (o) => { const cs = (get(o, 'status.containerStatuses') ?? []) as any[]; return `${cs.filter((c) => c.ready).length}/${(get(o, 'spec.containers') ?? []).length}`; } },
    { name: 'Status', type: 'string', cell: podStatus },
    { name: 'Restarts', type: 'string', cell: (o) => String(((get(o, 'status.containerStatuses') ?? []) as any[]).reduce((n, c) => n + (c.restartCount ?? 0), 0)) },
    age,
  ],
  Node: [
    name,
    { name: 'Status', type: 'string', cell: (o) => { const r = ((get(o, 'status.conditions') ?? []) as any[]).find((c) => c.type === 'Ready'); return r?.status === 'True' ? 'Ready' : 'NotReady'; } },
    age,
  ],
  Deployment: [
    name,
    { name: 'Ready', type: 'string', cell: (o) => `${get(o, 'status.readyReplicas') ?? 0}/${get(o, 'spec.replicas') ?? 0}` },
    { name: 'Up-to-date', type: 'integer', cell: (o) => get(o, 'status.updatedReplicas') ?? 0 },
    { name: 'Available', type: 'integer', cell: (o) => get(o, 'status.availableReplicas') ?? 0 },
    age,
  ],
  Lease: [name, { name: 'Holder', type: 'string', cell: (o) => get(o, 'spec.holderIdentity') ?? '' }, age],
};

export function tableOf(kind: string, objects: readonly KubeObject[], resourceVersion: string, includeObject: string | null, now = Date.now()): Record<string, unknown> {
  const columns = COLUMNS[kind] ?? [name, age];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map((c, i) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.name, priority: i === 0 ? 0 : 0 })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o, now)),
      object:
        includeObject === 'None'
          ? undefined
          : includeObject === 'Object'
            ? o
            : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}
