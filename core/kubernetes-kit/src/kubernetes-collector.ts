/**
 * The `kubernetes` collector: informers over the API server, metrics on every collection round,
 * topology and change events as objects change.
 *
 * Every agent reports its own node (`nodeName`): the pods placed there, their containers, and the
 * kubelet summary. Cluster-level state (nodes, namespaces, workloads, services, quotas, core
 * events, extension resources) is reported by the leader only; the cluster informers run only
 * while leading. A resource the agent may not read (403) is reported once in the status, naming
 * the missing RBAC rule; everything else keeps running.
 */
import { hostname } from 'node:os';
import { ErrorCode, type Attributes, type Collector, type CollectorContext, type SextantEvent, type TopologyEdge, type TopologyEntity } from '@sextant/plugin-api';
import { deploymentChanges, jobChanges, nodeChanges, podChanges, replicaChanges } from './change-events.js';
import type { KubernetesConfig } from './config.js';
import type { ExtensionContext, ExtensionResource, KubernetesExtension } from './extension.js';
import { KubeConnection, KubeApiError } from './kube-connection.js';
import { conditionValue, containerEntity, containerResource, parseQuantity, phaseValue, podContainers, podOwners, podResource, workloadEntityId } from './kube-objects.js';
import { KubeletSummaryReader, type Summary } from './kubelet-summary.js';
import { LeaderElection } from './leader-election.js';
import { M } from './metrics.js';
import { ResourceInformer, stripObject, type InformerHandlers, type KubeObject, type ResourceRef } from './resource-informer.js';
import { SeriesCache, type MetricSpec } from './series-cache.js';

const R = {
  pods: { group: '', version: 'v1', plural: 'pods' },
  nodes: { group: '', version: 'v1', plural: 'nodes' },
  namespaces: { group: '', version: 'v1', plural: 'namespaces' },
  services: { group: '', version: 'v1', plural: 'services' },
  events: { group: '', version: 'v1', plural: 'events' },
  resourcequotas: { group: '', version: 'v1', plural: 'resourcequotas' },
  endpointslices: { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' },
  deployments: { group: 'apps', version: 'v1', plural: 'deployments' },
  replicasets: { group: 'apps', version: 'v1', plural: 'replicasets' },
  statefulsets: { group: 'apps', version: 'v1', plural: 'statefulsets' },
  daemonsets: { group: 'apps', version: 'v1', plural: 'daemonsets' },
  jobs: { group: 'batch', version: 'v1', plural: 'jobs' },
  cronjobs: { group: 'batch', version: 'v1', plural: 'cronjobs' },
} as const satisfies Record<string, ResourceRef>;

type ClusterKind = Exclude<keyof typeof R, 'pods'>;

/** Core events forwarded per minute at most (a flood is counted, not forwarded). */
const MAX_CORE_EVENTS_PER_MINUTE = 120;

export class KubernetesCollector implements Collector {
  private connection: KubeConnection | undefined;
  private pods: ResourceInformer | undefined;
  private readonly cluster = new Map<ClusterKind, ResourceInformer>();
  private readonly extensionInformers = new Map<string, { ext: KubernetesExtension; res: ExtensionResource; informer: ResourceInformer }>();
  private readonly activeExtensions = new Set<KubernetesExtension>();
  private election: LeaderElection | undefined;
  private leading = false;
  private readonly nodeName: string | undefined;
  private readonly namespaces: Set<string> | undefined;
  private readonly series: SeriesCache;
  private readonly summaries: KubeletSummaryReader;
  private readonly forbidden = new Map<string, string>();
  private lastError: string | undefined;
  private readonly templateRevisions = new Map<string, Map<string, number>>();
  private readonly pending: { entities: TopologyEntity[]; edges: TopologyEdge[]; removed: string[]; events: number } = { entities: [], edges: [], removed: [], events: 0 };
  private flushScheduled = false;
  private coreEventWindow = { start: 0, count: 0 };
  private stopped = false;
  private readonly counters;

  constructor(
    private readonly ctx: CollectorContext<KubernetesConfig>,
    private readonly extensions: readonly KubernetesExtension[] = [],
  ) {
    const cfg = ctx.config;
    this.nodeName = cfg.nodeName ?? (process.env.NODE_NAME || undefined);
    this.namespaces = cfg.namespaces.length ? new Set(cfg.namespaces) : undefined;
    this.counters = {
      refused: ctx.metrics.counter('series_refused_total', 'Series the runtime refused (per-instance series limit)'),
      events: ctx.metrics.counter('change_events_total', 'Change events written'),
      droppedCoreEvents: ctx.metrics.counter('core_events_dropped_total', 'Core events not forwarded because more than 120 arrived in a minute'),
      apiErrors: ctx.metrics.counter('api_errors_total', 'Failed list, watch or summary requests'),
      badObjects: ctx.metrics.counter('bad_objects_total', 'Objects skipped because a field had an impossible value'),
    };
    this.series = new SeriesCache(ctx.sink, this.counters.refused);
    this.summaries = new KubeletSummaryReader(this.series);
  }

  /** The election state, for tests and `/api/v1/plugins`. */
  get isLeader(): boolean {
    return this.leading;
  }

  /** Objects cached by every informer, for the benchmark. */
  get cachedObjects(): number {
    let n = this.pods?.size ?? 0;
    for (const i of this.cluster.values()) n += i.size;
    return n;
  }

  /** True once every running informer has completed a list. */
  get synced(): boolean {
    return (this.pods?.hasSynced ?? false) && [...this.cluster.values()].every((i) => i.hasSynced) && [...this.extensionInformers.values()].every((x) => x.informer.hasSynced);
  }

  informerStats(): Record<string, ResourceInformer['stats']> {
    const out: Record<string, ResourceInformer['stats']> = {};
    if (this.pods) out.pods = this.pods.stats;
    for (const [k, i] of this.cluster) out[k] = i.stats;
    return out;
  }

  // ------------------------------------------------------------------------------ lifecycle

  start(): void {
    const cfg = this.ctx.config;
    this.connection = new KubeConnection(cfg);
    this.pods = this.informer(R.pods, this.podHandlers(), this.nodeName ? `spec.nodeName=${this.nodeName}` : undefined);
    this.pods.start();
    if (cfg.leaderElection.enabled) {
      const leaseDurationMs = cfg.leaderElection.leaseDuration ?? Math.max(15_000, 3 * this.ctx.intervalMs);
      this.election = new LeaderElection(this.connection, {
        namespace: cfg.leaderElection.namespace,
        name: cfg.leaderElection.leaseName,
        identity: cfg.leaderElection.identity ?? process.env.POD_NAME ?? `${hostname()}-${process.pid}-${this.ctx.instanceId}`,
        leaseDurationMs,
        now: () => this.ctx.clock.now(),
      });
      void this.electionRound();
    } else {
      this.setLeading(true);
    }
    this.ctx.status.set('starting', `connecting to ${this.connection.server}`);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.pods?.stop();
    for (const i of this.cluster.values()) i.stop();
    for (const { informer } of this.extensionInformers.values()) informer.stop();
    await this.election?.release();
  }

  private informer(ref: ResourceRef, handlers: InformerHandlers, fieldSelector?: string): ResourceInformer {
    const cfg = this.ctx.config;
    return new ResourceInformer(
      this.connection!,
      ref,
      { pageSize: cfg.listPageSize, backoffMinMs: cfg.backoff.min, backoffMaxMs: cfg.backoff.max, watchTimeoutMs: cfg.watchTimeout, transform: stripObject, ...(fieldSelector ? { fieldSelector } : {}) },
      {
        ...handlers,
        onForbidden: (rule, message) => {
          this.forbidden.set(rule, message);
          this.ctx.logger.warn('kubernetes: forbidden', { rule, message });
          this.reportStatus();
        },
        onError: (e) => {
          this.counters.apiErrors.add(1, { resource: ref.plural });
          this.lastError = e.message;
          this.reportStatus();
        },
        onSynced: () => {
          this.recovered(ref);
          handlers.onSynced?.();
        },
        onRecovered: () => this.recovered(ref),
      },
    );
  }

  private recovered(ref: ResourceRef): void {
    this.forbidden.delete([...this.forbidden.keys()].find((r) => r.includes(`"${ref.plural}"`)) ?? '');
    this.lastError = undefined;
    this.reportStatus();
  }

  private reportStatus(): void {
    if (this.stopped) return;
    if (this.forbidden.size) {
      this.ctx.status.set('degraded', `forbidden: missing RBAC rule${this.forbidden.size > 1 ? 's' : ''} ${[...this.forbidden.keys()].join('; ')} (add to the ClusterRole of the agent's service account); everything else is reported`, ErrorCode.UNAUTHORIZED);
    } else if (this.lastError) {
      const auth = /: 401 /.test(this.lastError);
      this.ctx.status.set('degraded', `${this.lastError}; retrying with backoff`, auth ? ErrorCode.AUTH_FAILED : ErrorCode.CONNECTION_FAILED);
    } else if (this.pods?.hasSynced) {
      this.ctx.status.set('ok', `${this.leading ? 'leader: cluster state and ' : ''}node ${this.nodeName ?? '(all nodes)'}`);
    }
  }

  // ------------------------------------------------------------------------ leader election

  private async electionRound(): Promise<void> {
    if (!this.election || this.stopped) return;
    try {
      this.setLeading(await this.election.tryAcquireOrRenew());
    } catch (e) {
      this.setLeading(this.election.isLeader);
      if (e instanceof KubeApiError && e.status === 403) {
        this.forbidden.set(`get, create, update on "leases" in API group "coordination.k8s.io" in namespace "${this.ctx.config.leaderElection.namespace}"`, e.message);
      } else this.lastError = (e as Error).message;
      this.reportStatus();
    }
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading || this.stopped) return;
    this.leading = leading;
    this.ctx.logger.info(leading ? 'kubernetes: leading, reporting cluster state' : 'kubernetes: following, cluster state is reported by another agent', { holder: this.election?.holder });
    if (leading) {
      for (const kind of Object.keys(R) as (keyof typeof R)[]) {
        if (kind === 'pods') continue;
        const inf = this.informer(R[kind], this.clusterHandlers(kind));
        this.cluster.set(kind, inf);
        inf.start();
      }
      void this.discoverExtensions();
    } else {
      for (const i of this.cluster.values()) i.stop();
      this.cluster.clear();
      for (const { informer } of this.extensionInformers.values()) informer.stop();
      this.extensionInformers.clear();
      this.activeExtensions.clear();
    }
  }

  private async discoverExtensions(): Promise<void> {
    if (!this.extensions.length || !this.connection) return;
    let groups: string[];
    try {
      const list = await this.connection.request<{ groups?: { name?: string }[] }>('GET', '/apis');
      groups = (list.groups ?? []).map((g) => String(g.name));
    } catch (e) {
      this.ctx.logger.warn('kubernetes: API discovery failed; extensions stay off until the next leadership', { error: (e as Error).message });
      return;
    }
    for (const ext of this.extensions) {
      if (!ext.requiredGroups.every((g) => groups.includes(g))) {
        this.ctx.logger.info(`kubernetes: extension ${ext.id} stays off: the API server does not serve ${ext.requiredGroups.filter((g) => !groups.includes(g)).join(', ')}`);
        continue;
      }
      if (!this.leading) return;
      this.activeExtensions.add(ext);
      for (const res of ext.resources) {
        const key = `${ext.id}:${res.group}/${res.plural}`;
        const informer = this.informer(res, {
          onAdd: (o) => this.extensionChange(ext, res, 'added', o, undefined, informer),
          onUpdate: (o, old) => this.extensionChange(ext, res, 'updated', o, old, informer),
          onDelete: (o) => this.extensionChange(ext, res, 'deleted', o, undefined, informer),
        });
        this.extensionInformers.set(key, { ext, res, informer });
        informer.start();
      }
      this.ctx.logger.info(`kubernetes: extension ${ext.id} on`);
    }
  }

  /** Extensions currently turned on (their API groups are served). */
  get extensionsOn(): string[] {
    return [...this.activeExtensions].map((e) => e.id);
  }

  private extensionContext(): ExtensionContext {
    const base = this.baseResource();
    return {
      sink: this.ctx.sink,
      logger: this.ctx.logger,
      now: () => this.ctx.clock.now(),
      baseResource: base,
      objects: (ref) => {
        const hit = [...this.extensionInformers.values()].find((x) => x.res.group === ref.group && x.res.plural === ref.plural);
        return hit ? [...hit.informer.list()].filter((o) => this.inScope(o)) : [];
      },
      gauge: (metric, unit, resource, value, attributes = {}, description) => {
        const spec: MetricSpec = { metric, unit, type: 'gauge', ...(description ? { description } : {}) };
        this.series.write(`ext:${metric}:${JSON.stringify(resource)}`, spec, { ...base, ...resource }, value, attributes);
      },
    };
  }

  private extensionChange(ext: KubernetesExtension, res: ExtensionResource, change: 'added' | 'updated' | 'deleted', cur: KubeObject, old: KubeObject | undefined, informer: ResourceInformer): void {
    if (!informer.hasSynced || !this.inScope(cur)) return;
    try {
      ext.onChange?.(res, change, cur, old, this.extensionContext());
      this.scheduleFlush();
    } catch (e) {
      this.ctx.logger.warn(`kubernetes: extension ${ext.id} failed on ${res.plural}`, { error: (e as Error).message });
    }
  }

  // -------------------------------------------------------------------------- change handling

  private inScope(o: KubeObject): boolean {
    return !this.namespaces || !o.metadata.namespace || this.namespaces.has(o.metadata.namespace);
  }

  private baseResource(): Attributes {
    return {};
  }

  private podExtra(pod: KubeObject): Attributes {
    let out: Attributes = {};
    for (const ext of this.extensions) if (ext.podAttributes) out = { ...out, ...ext.podAttributes(pod) };
    return out;
  }

  private event(draft: Omit<SextantEvent, 'timestamp' | 'source'>): void {
    this.ctx.sink.event({ ...draft, timestamp: this.ctx.clock.now(), source: 'kubernetes' });
    this.counters.events.add(1, { type: draft.type });
    this.pending.events++;
    this.scheduleFlush();
  }

  /** Events and topology go out soon after the change, batched per turn of the event loop. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.stopped) return;
      this.flushTopology();
      this.ctx.sink.flush();
    });
  }

  private flushTopology(): void {
    const p = this.pending;
    if (!p.entities.length && !p.edges.length && !p.removed.length) return;
    this.ctx.sink.topology({ upsertEntities: p.entities, upsertEdges: p.edges, removeEntities: p.removed });
    p.entities = [];
    p.edges = [];
    p.removed = [];
  }

  private podTopology(pod: KubeObject): void {
    const id = `pod:${pod.metadata.uid}`;
    const ns = pod.metadata.namespace ?? '';
    const res = podResource(pod, undefined, this.podExtra(pod));
    this.pending.entities.push({ id, type: 'pod', name: `${ns}/${pod.metadata.name}`, attributes: { ...res, 'k8s.pod.phase': String(pod.status?.phase ?? 'Unknown') } });
    const node = pod.spec?.nodeName;
    if (typeof node === 'string' && node) this.pending.edges.push({ from: id, to: `host:${node}`, type: 'runs-on' });
    const { controller, top: ownerTop } = podOwners(pod);
    let top = ownerTop;
    for (const ext of this.extensions) top = ext.podWorkload?.(pod) ?? top;
    if (controller) this.pending.edges.push({ from: id, to: workloadEntityId(ns, controller), type: 'owned-by' });
    // The pods of one workload are one peer group.
    if (top) this.pending.edges.push({ from: id, to: workloadEntityId(ns, top), type: 'member-of' });
    // Containers are the `container:<id>` entities the containers collector reports on the node;
    // this collector links them to their pod and leaves the entity itself to that collector,
    // unless told to publish them (nodes where no containers collector runs).
    for (const c of podContainers(pod)) {
      if (!c.id) continue;
      this.pending.edges.push({ from: `container:${c.id}`, to: id, type: 'runs-on' });
      if (this.ctx.config.publishContainers) this.pending.entities.push(containerEntity(pod, c));
    }
  }

  /** Published container entities of `old` that `cur` no longer has (restarted or deleted) go away. */
  private removeGoneContainers(old: KubeObject, cur: KubeObject | undefined): void {
    if (!this.ctx.config.publishContainers) return;
    const now = new Set(cur ? podContainers(cur).map((c) => c.id) : []);
    for (const c of podContainers(old)) if (c.id && !now.has(c.id)) this.pending.removed.push(`container:${c.id}`);
  }

  private podHandlers(): InformerHandlers {
    return {
      onAdd: (pod) => {
        if (!this.inScope(pod)) return;
        this.podTopology(pod);
        this.scheduleFlush();
      },
      onUpdate: (pod, old) => {
        if (!this.inScope(pod)) return;
        this.podTopology(pod);
        this.removeGoneContainers(old, pod);
        if (this.pods?.hasSynced) for (const d of podChanges(old, pod, podResource(pod, undefined, this.podExtra(pod)))) this.event(d);
        this.scheduleFlush();
      },
      onDelete: (pod) => {
        this.pending.removed.push(`pod:${pod.metadata.uid}`);
        this.removeGoneContainers(pod, undefined);
        this.series.forget(pod.metadata.uid);
        this.summaries.forget(pod.metadata.uid);
        this.scheduleFlush();
      },
    };
  }

  private clusterHandlers(kind: ClusterKind): InformerHandlers {
    const synced = () => this.cluster.get(kind)?.hasSynced ?? false;
    return {
      onAdd: (o) => {
        if (!this.inScope(o)) return;
        this.clusterTopology(kind, o);
        if (kind === 'events' && synced()) this.coreEvent(o);
      },
      onUpdate: (o, old) => {
        if (!this.inScope(o)) return;
        this.clusterTopology(kind, o);
        if (!synced()) return;
        const drafts =
          kind === 'deployments'
            ? deploymentChanges(old, o, this.templateRevisions)
            : kind === 'statefulsets'
              ? replicaChanges('StatefulSet', 'k8s.statefulset.name', old, o)
              : kind === 'nodes'
                ? nodeChanges(old, o)
                : kind === 'jobs'
                  ? jobChanges(old, o)
                  : [];
        for (const d of drafts) this.event(d);
      },
      onDelete: (o) => {
        this.series.forget(o.metadata.uid);
        if (kind === 'nodes') this.pending.removed.push(`host:${o.metadata.name}`);
        else if (kind === 'services') this.pending.removed.push(`service:${o.metadata.namespace}/${o.metadata.name}`);
        else if (['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs'].includes(kind)) {
          this.pending.removed.push(workloadEntityId(o.metadata.namespace ?? '', { kind: String(o.kind ?? kindOf(kind)), name: o.metadata.name }));
        }
        this.scheduleFlush();
      },
    };
  }

  private coreEvent(o: KubeObject): void {
    const e = o as KubeObject & { type?: string; reason?: string; message?: string; involvedObject?: { kind?: string; name?: string; namespace?: string } };
    if (e.type !== 'Warning') return;
    const now = this.ctx.clock.now();
    if (now - this.coreEventWindow.start > 60_000) this.coreEventWindow = { start: now, count: 0 };
    if (++this.coreEventWindow.count > MAX_CORE_EVENTS_PER_MINUTE) {
      this.counters.droppedCoreEvents.add(1);
      return;
    }
    const io = e.involvedObject ?? {};
    const resource: Record<string, string> = { 'k8s.namespace.name': io.namespace ?? o.metadata.namespace ?? '' };
    if (io.kind === 'Pod' && io.name) resource['k8s.pod.name'] = io.name;
    if (io.kind === 'Node' && io.name) resource['k8s.node.name'] = io.name;
    if (io.kind === 'Deployment' && io.name) resource['k8s.deployment.name'] = io.name;
    this.event({ type: 'k8s.event', title: `${io.kind ?? 'object'} ${io.namespace ? `${io.namespace}/` : ''}${io.name ?? ''}: ${e.reason ?? 'Warning'}: ${String(e.message ?? '').slice(0, 300)}`, resource, attributes: { 'k8s.event.reason': String(e.reason ?? '') }, severity: 'warning' });
  }

  private clusterTopology(kind: ClusterKind, o: KubeObject): void {
    const ns = o.metadata.namespace ?? '';
    if (kind === 'nodes') {
      this.pending.entities.push({ id: `host:${o.metadata.name}`, type: 'host', name: o.metadata.name, attributes: { 'host.name': o.metadata.name, 'k8s.node.name': o.metadata.name, 'k8s.node.uid': o.metadata.uid } });
    } else if (['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs'].includes(kind)) {
      const k = kindOf(kind);
      const id = workloadEntityId(ns, { kind: k, name: o.metadata.name });
      this.pending.entities.push({ id, type: `k8s.${k.toLowerCase()}`, name: `${ns}/${o.metadata.name}`, attributes: { 'k8s.namespace.name': ns, [`k8s.${k.toLowerCase()}.name`]: o.metadata.name, [`k8s.${k.toLowerCase()}.uid`]: o.metadata.uid } });
      const owner = o.metadata.ownerReferences?.find((r) => r.controller);
      if (owner) this.pending.edges.push({ from: id, to: workloadEntityId(ns, { kind: owner.kind, name: owner.name }), type: 'owned-by' });
      this.linkWorkloadToServices(o, id);
    } else if (kind === 'services') {
      this.pending.entities.push({ id: `service:${ns}/${o.metadata.name}`, type: 'service', name: `${ns}/${o.metadata.name}`, attributes: { 'k8s.namespace.name': ns, 'k8s.service.name': o.metadata.name, 'service.name': o.metadata.name } });
      for (const wk of ['deployments', 'statefulsets', 'daemonsets'] as const) {
        for (const w of this.cluster.get(wk)?.list() ?? []) if (w.metadata.namespace === ns) this.linkWorkloadToServices(w, workloadEntityId(ns, { kind: kindOf(wk), name: w.metadata.name }));
      }
    } else return;
    this.scheduleFlush();
  }

  /** workload -> service when the service's selector matches the workload's pod template labels. */
  private linkWorkloadToServices(w: KubeObject, workloadId: string): void {
    const labels = (w.spec?.template?.metadata?.labels ?? {}) as Record<string, string>;
    for (const svc of this.cluster.get('services')?.list() ?? []) {
      if (svc.metadata.namespace !== w.metadata.namespace) continue;
      const sel = (svc.spec?.selector ?? {}) as Record<string, string>;
      const keys = Object.keys(sel);
      if (keys.length && keys.every((k) => labels[k] === sel[k])) this.pending.edges.push({ from: workloadId, to: `service:${svc.metadata.namespace}/${svc.metadata.name}`, type: 'exposed-by' });
    }
  }

  // ------------------------------------------------------------------------------- collection

  async collect(signal: AbortSignal): Promise<void> {
    await this.electionRound();
    this.writePodMetrics();
    if (this.ctx.config.kubeletSummary) await this.readSummaries(signal);
    if (this.leading) {
      this.writeClusterMetrics();
      const ectx = this.extensionContext();
      for (const ext of this.activeExtensions) {
        try {
          ext.collect?.(ectx);
        } catch (e) {
          this.ctx.logger.warn(`kubernetes: extension ${ext.id} collect failed`, { error: (e as Error).message });
        }
      }
    }
    this.flushTopology();
    this.reportStatus();
  }

  private writePodMetrics(): void {
    for (const pod of this.pods?.list() ?? []) {
      if (!this.inScope(pod)) continue;
      const uid = pod.metadata.uid;
      const res = podResource(pod, undefined, this.podExtra(pod));
      this.series.write(uid, M.podPhase, res, phaseValue(pod.status?.phase));
      for (const c of podContainers(pod)) {
        const cres = containerResource(res, c);
        const variant = `${c.name}/${c.id ?? ''}`;
        const restarts = Number(c.status?.restartCount ?? 0);
        if (!Number.isFinite(restarts) || restarts < 0) this.counters.badObjects.add(1, { field: 'restartCount' });
        else this.series.write(uid, M.containerRestarts, cres, restarts, {}, variant);
        this.series.write(uid, M.containerReady, cres, c.status?.ready === true ? 1 : 0, {}, variant);
        this.series.write(uid, M.cpuRequest, cres, c.requests.cpu, {}, variant);
        this.series.write(uid, M.cpuLimit, cres, c.limits.cpu, {}, variant);
        this.series.write(uid, M.memoryRequest, cres, c.requests.memory, {}, variant);
        this.series.write(uid, M.memoryLimit, cres, c.limits.memory, {}, variant);
      }
    }
  }

  private async readSummaries(signal: AbortSignal): Promise<void> {
    const nodes = this.nodeName ? [this.nodeName] : this.summaryNodes();
    const podByUid = new Map<string, KubeObject>();
    for (const p of this.pods?.list() ?? []) if (this.inScope(p)) podByUid.set(p.metadata.uid, p);
    for (const node of nodes) {
      if (signal.aborted) return;
      try {
        const summary = await this.connection!.request<Summary>('GET', `/api/v1/nodes/${encodeURIComponent(node)}/proxy/stats/summary`, { signal });
        this.summaries.write(summary, { 'k8s.node.name': node, 'host.name': node }, (uid) => podByUid.get(uid), undefined, (p) => this.podExtra(p));
      } catch (e) {
        if ((e as Error).name === 'AbortError') return;
        this.counters.apiErrors.add(1, { resource: 'nodes/proxy' });
        if (e instanceof KubeApiError && e.status === 403) {
          this.forbidden.set('get on "nodes/proxy" in API group ""', e.message);
          return;
        }
        this.ctx.logger.debug('kubernetes: kubelet summary failed', { node, error: (e as Error).message });
      }
    }
  }

  /** Without a node of its own: the nodes that run cached pods, at most `summaryMaxNodes`. */
  private summaryNodes(): string[] {
    const names = new Set<string>();
    for (const p of this.pods?.list() ?? []) {
      const n = p.spec?.nodeName;
      if (typeof n === 'string' && n) names.add(n);
      if (names.size >= this.ctx.config.summaryMaxNodes) break;
    }
    return [...names].sort();
  }

  private writeClusterMetrics(): void {
    const w = (owner: string, spec: MetricSpec, res: Attributes, v: unknown, attrs: Attributes = {}) => this.series.write(owner, spec, res, typeof v === 'number' ? v : Number.NaN, attrs);
    for (const n of this.cluster.get('nodes')?.list() ?? []) {
      const res = { 'k8s.node.name': n.metadata.name, 'k8s.node.uid': n.metadata.uid, 'host.name': n.metadata.name };
      for (const c of Array.isArray(n.status?.conditions) ? n.status.conditions : []) {
        if (typeof c?.type === 'string') w(n.metadata.uid, M.nodeCondition, res, conditionValue(c.status), { 'k8s.node.condition.type': c.type });
      }
      const alloc = n.status?.allocatable ?? {};
      w(n.metadata.uid, M.nodeAllocCpu, res, parseQuantity(alloc.cpu));
      w(n.metadata.uid, M.nodeAllocMemory, res, parseQuantity(alloc.memory));
      w(n.metadata.uid, M.nodeAllocPods, res, parseQuantity(alloc.pods));
    }
    const scoped = (kind: ClusterKind) => [...(this.cluster.get(kind)?.list() ?? [])].filter((o) => this.inScope(o));
    for (const ns of scoped('namespaces')) w(ns.metadata.uid, M.namespacePhase, { 'k8s.namespace.name': ns.metadata.name }, ns.status?.phase === 'Active' ? 1 : 0);
    for (const d of scoped('deployments')) {
      const res = { 'k8s.namespace.name': d.metadata.namespace ?? '', 'k8s.deployment.name': d.metadata.name, 'k8s.deployment.uid': d.metadata.uid };
      w(d.metadata.uid, M.deploymentDesired, res, d.spec?.replicas ?? 1);
      w(d.metadata.uid, M.deploymentAvailable, res, d.status?.availableReplicas ?? 0);
    }
    for (const r of scoped('replicasets')) {
      const res = { 'k8s.namespace.name': r.metadata.namespace ?? '', 'k8s.replicaset.name': r.metadata.name, 'k8s.replicaset.uid': r.metadata.uid };
      w(r.metadata.uid, M.replicasetDesired, res, r.spec?.replicas ?? 1);
      w(r.metadata.uid, M.replicasetAvailable, res, r.status?.availableReplicas ?? 0);
    }
    for (const s of scoped('statefulsets')) {
      const res = { 'k8s.namespace.name': s.metadata.namespace ?? '', 'k8s.statefulset.name': s.metadata.name, 'k8s.statefulset.uid': s.metadata.uid };
      w(s.metadata.uid, M.statefulsetDesired, res, s.spec?.replicas ?? 1);
      w(s.metadata.uid, M.statefulsetReady, res, s.status?.readyReplicas ?? 0);
      w(s.metadata.uid, M.statefulsetCurrent, res, s.status?.currentReplicas ?? 0);
      w(s.metadata.uid, M.statefulsetUpdated, res, s.status?.updatedReplicas ?? 0);
    }
    for (const d of scoped('daemonsets')) {
      const res = { 'k8s.namespace.name': d.metadata.namespace ?? '', 'k8s.daemonset.name': d.metadata.name, 'k8s.daemonset.uid': d.metadata.uid };
      w(d.metadata.uid, M.daemonsetDesired, res, d.status?.desiredNumberScheduled ?? 0);
      w(d.metadata.uid, M.daemonsetCurrent, res, d.status?.currentNumberScheduled ?? 0);
      w(d.metadata.uid, M.daemonsetMisscheduled, res, d.status?.numberMisscheduled ?? 0);
      w(d.metadata.uid, M.daemonsetReady, res, d.status?.numberReady ?? 0);
    }
    for (const j of scoped('jobs')) {
      const res = { 'k8s.namespace.name': j.metadata.namespace ?? '', 'k8s.job.name': j.metadata.name, 'k8s.job.uid': j.metadata.uid };
      w(j.metadata.uid, M.jobActive, res, j.status?.active ?? 0);
      w(j.metadata.uid, M.jobFailed, res, j.status?.failed ?? 0);
      w(j.metadata.uid, M.jobSucceeded, res, j.status?.succeeded ?? 0);
    }
    for (const c of scoped('cronjobs')) {
      w(c.metadata.uid, M.cronjobActive, { 'k8s.namespace.name': c.metadata.namespace ?? '', 'k8s.cronjob.name': c.metadata.name, 'k8s.cronjob.uid': c.metadata.uid }, Array.isArray(c.status?.active) ? c.status.active.length : 0);
    }
    for (const q of scoped('resourcequotas')) {
      const res = { 'k8s.namespace.name': q.metadata.namespace ?? '', 'k8s.resourcequota.name': q.metadata.name, 'k8s.resourcequota.uid': q.metadata.uid };
      for (const [k, v] of Object.entries((q.status?.hard ?? {}) as Record<string, unknown>)) w(q.metadata.uid, M.quotaHard, res, parseQuantity(v), { resource: k });
      for (const [k, v] of Object.entries((q.status?.used ?? {}) as Record<string, unknown>)) w(q.metadata.uid, M.quotaUsed, res, parseQuantity(v), { resource: k });
    }
    const perService = new Map<string, { ns: string; name: string; ready: number; notReady: number }>();
    for (const s of scoped('endpointslices')) {
      const svc = s.metadata.labels?.['kubernetes.io/service-name'];
      if (!svc) continue;
      const key = `${s.metadata.namespace}/${svc}`;
      const acc = perService.get(key) ?? { ns: s.metadata.namespace ?? '', name: svc, ready: 0, notReady: 0 };
      for (const ep of Array.isArray((s as any).endpoints) ? ((s as any).endpoints as any[]) : []) {
        if (ep?.conditions?.ready === false) acc.notReady++;
        else acc.ready++;
      }
      perService.set(key, acc);
    }
    for (const [key, s] of perService) {
      const res = { 'k8s.namespace.name': s.ns, 'k8s.service.name': s.name };
      w(`svc:${key}`, M.serviceEndpoints, res, s.ready, { 'k8s.service.endpoint.condition': 'ready' });
      w(`svc:${key}`, M.serviceEndpoints, res, s.notReady, { 'k8s.service.endpoint.condition': 'not_ready' });
    }
  }
}

function kindOf(kind: ClusterKind): string {
  return { deployments: 'Deployment', replicasets: 'ReplicaSet', statefulsets: 'StatefulSet', daemonsets: 'DaemonSet', jobs: 'Job', cronjobs: 'CronJob' }[kind as string] ?? kind;
}
