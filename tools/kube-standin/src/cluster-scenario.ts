/**
 * The scenario API: a small, deterministic imitation of what the controllers and kubelets of a
 * real cluster would write, so tests can say "scale this deployment", "roll out a new image",
 * "put this pod into CrashLoopBackOff", "node NotReady" and watch clients see the same object
 * changes (with the same fields and reasons) a real cluster produces. Changes happen at once;
 * there is no reconciliation loop and no scheduler beyond round-robin placement.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { KubeApiServer } from './api-server.js';
import type { KubeObject, ObjectMeta } from './object-store.js';

export interface ContainerSpecInput {
  readonly name: string;
  readonly image: string;
  readonly requests?: { cpu?: string; memory?: string };
  readonly limits?: { cpu?: string; memory?: string };
}

export interface WorkloadInput {
  readonly namespace?: string;
  readonly name: string;
  readonly replicas: number;
  /** Shorthand for one container named after the workload. */
  readonly image?: string;
  readonly containers?: readonly ContainerSpecInput[];
  readonly labels?: Record<string, string>;
  /** Nodes to place pods on (round robin); default every node. */
  readonly nodes?: readonly string[];
}

/** Per-container usage the kubelet summary reports; defaults derive from the pod's name. */
export interface ContainerUsage {
  cpuCores: number;
  workingSetBytes: number;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const hash = (s: string, n = 10) => createHash('sha256').update(s).digest('hex').slice(0, n);
/** Pod-template-hash alphabet of the real controller (no vowels). */
const safeHash = (s: string) => hash(s, 10).replace(/[aeiou]/g, 'b').slice(0, 10);

const POD = '/pods';
const NODE = '/nodes';
const DEPLOY = 'apps/deployments';
const RS = 'apps/replicasets';

export class ClusterScenario {
  private readonly usage = new Map<string, ContainerUsage>();
  private readonly startedAt = Date.now();
  private placement = 0;

  constructor(private readonly api: KubeApiServer) {
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) this.namespace(ns);
    api.setSummaryProvider((node) => this.summary(node));
  }

  private put(typeKey: string, obj: KubeObject): KubeObject {
    const existing = this.api.store.peek(typeKey, obj.metadata.namespace, obj.metadata.name);
    if (!existing) return this.api.store.create(typeKey, obj)!;
    const r = this.api.store.update(typeKey, obj, { bumpGeneration: JSON.stringify(existing.spec) !== JSON.stringify(obj.spec) });
    if (typeof r === 'string') throw new Error(`update of ${obj.metadata.name} failed: ${r}`);
    return r;
  }

  private mutate(typeKey: string, namespace: string | undefined, name: string, change: (o: any) => void): KubeObject {
    const obj = this.api.store.get(typeKey, namespace, name);
    if (!obj) throw new Error(`${typeKey} ${namespace ?? ''}/${name} does not exist in the stand-in`);
    change(obj);
    return this.put(typeKey, obj);
  }

  namespace(name: string): KubeObject {
    return this.put('/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
  }

  // ------------------------------------------------------------------------------------- nodes

  addNode(name: string, capacity: { cpu?: string; memory?: string; pods?: string } = {}): KubeObject {
    const cap = { cpu: capacity.cpu ?? '4', memory: capacity.memory ?? '16Gi', pods: capacity.pods ?? '110', 'ephemeral-storage': '100Gi' };
    const t = now();
    const condition = (type: string, status: string, reason: string, message: string) => ({ type, status, lastHeartbeatTime: t, lastTransitionTime: t, reason, message });
    return this.put(NODE, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/worker': '' } },
      spec: { podCIDR: '10.244.0.0/24' },
      status: {
        capacity: cap,
        allocatable: { ...cap, cpu: cap.cpu, memory: cap.memory },
        conditions: [
          condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
          condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
          condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
          condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
        ],
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: name }],
        nodeInfo: { kubeletVersion: 'v1.31.0', containerRuntimeVersion: 'containerd://1.7.0', kernelVersion: '6.1.0', osImage: 'Debian GNU/Linux 12', operatingSystem: 'linux', architecture: 'amd64' },
      },
    });
  }

  /** Ready=False (kubelet said so) or Unknown (kubelet stopped posting), as the node controller writes it. */
  setNodeReady(name: string, ready: boolean, unknown = false): KubeObject {
    return this.mutate(NODE, undefined, name, (n) => {
      const c = n.status.conditions.find((x: any) => x.type === 'Ready');
      c.status = ready ? 'True' : unknown ? 'Unknown' : 'False';
      c.reason = ready ? 'KubeletReady' : unknown ? 'NodeStatusUnknown' : 'KubeletNotReady';
      c.message = ready ? 'kubelet is posting ready status' : unknown ? 'Kubelet stopped posting node status.' : 'container runtime network not ready';
      c.lastTransitionTime = now();
    });
  }

  setNodePressure(name: string, type: 'MemoryPressure' | 'DiskPressure' | 'PIDPressure', on: boolean): KubeObject {
    return this.mutate(NODE, undefined, name, (n) => {
      const c = n.status.conditions.find((x: any) => x.type === type);
      c.status = on ? 'True' : 'False';
      c.lastTransitionTime = now();
    });
  }

  private nodeNames(): string[] {
    return this.api.store.list(NODE).map((n) => n.metadata.name);
  }

  // -------------------------------------------------------------------------------------- pods

  private containers(input: WorkloadInput, image?: string): ContainerSpecInput[] {
    if (input.containers) return [...input.containers];
    return [{ name: input.name, image: image ?? input.image ?? 'nginx:1.25', requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } }];
  }

  private podFor(namespace: string, name: string, labels: Record<string, string>, containers: readonly ContainerSpecInput[], owner: { apiVersion: string; kind: string; name: string; uid: string }, node: string): KubeObject {
    const t = now();
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels, ownerReferences: [{ ...owner, controller: true, blockOwnerDeletion: true } as any] },
      spec: {
        nodeName: node,
        restartPolicy: 'Always',
        containers: containers.map((c) => ({ name: c.name, image: c.image, resources: { ...(c.requests ? { requests: c.requests } : {}), ...(c.limits ? { limits: c.limits } : {}) } })),
      },
      status: {
        phase: 'Running',
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
          { type: 'Initialized', status: 'True', lastTransitionTime: t },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: t },
          { type: 'Ready', status: 'True', lastTransitionTime: t },
        ],
        hostIP: '127.0.0.1',
        podIP: `10.244.${this.placement % 250}.${(this.placement * 7) % 250}`,
        startTime: t,
        qosClass: 'Burstable',
        containerStatuses: containers.map((c) => ({
          name: c.name,
          image: c.image,
          imageID: `docker.io/library/${c.image}@sha256:${hash(c.image, 64)}`,
          containerID: `containerd://${randomBytes(32).toString('hex')}`,
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: t } },
        })),
      },
    };
  }

  private nextNode(nodes?: readonly string[]): string {
    const list = nodes?.length ? nodes : this.nodeNames();
    if (!list.length) throw new Error('the stand-in has no nodes: call addNode() first');
    return list[this.placement++ % list.length]!;
  }

  /** Pods whose controller is the given owner uid. */
  podsOf(ownerUid: string): KubeObject[] {
    return this.api.store.list(POD).filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === ownerUid));
  }

  pod(namespace: string, name: string): KubeObject {
    const p = this.api.store.get(POD, namespace, name);
    if (!p) throw new Error(`pod ${namespace}/${name} does not exist in the stand-in`);
    return p;
  }

  // --------------------------------------------------------------------------------- workloads

  createDeployment(input: WorkloadInput): KubeObject {
    const namespace = input.namespace ?? 'default';
    const labels = input.labels ?? { app: input.name };
    const containers = this.containers(input);
    const template = { metadata: { labels }, spec: { containers: containers.map((c) => ({ name: c.name, image: c.image, resources: { requests: c.requests, limits: c.limits } })) } };
    const dep = this.put(DEPLOY, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: input.name, namespace, labels, annotations: { 'deployment.kubernetes.io/revision': '1' } },
      spec: { replicas: input.replicas, selector: { matchLabels: labels }, template, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } }, progressDeadlineSeconds: 600, revisionHistoryLimit: 10 },
      status: {},
    });
    this.newReplicaSet(dep, containers, 1, input.replicas, input.nodes);
    return this.syncDeploymentStatus(namespace, input.name);
  }

  private replicaSets(dep: KubeObject): KubeObject[] {
    return this.api.store.list(RS, dep.metadata.namespace).filter((r) => r.metadata.ownerReferences?.some((o) => o.uid === dep.metadata.uid));
  }

  private newReplicaSet(dep: KubeObject, containers: readonly ContainerSpecInput[], revision: number, replicas: number, nodes?: readonly string[]): KubeObject {
    const ns = dep.metadata.namespace!;
    const podHash = safeHash(`${dep.metadata.name}:${JSON.stringify(containers)}`);
    const labels = { ...((dep.spec as any).selector.matchLabels as Record<string, string>), 'pod-template-hash': podHash };
    const rs = this.put(RS, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${dep.metadata.name}-${podHash}`,
        namespace: ns,
        labels,
        annotations: { 'deployment.kubernetes.io/revision': String(revision), 'deployment.kubernetes.io/desired-replicas': String(replicas) },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: dep.metadata.name, uid: dep.metadata.uid!, controller: true }],
      },
      spec: { replicas: 0, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers } } },
      status: { replicas: 0, readyReplicas: 0, availableReplicas: 0 },
    });
    this.scaleReplicaSet(ns, rs.metadata.name, replicas, nodes);
    return this.api.store.get(RS, ns, rs.metadata.name)!;
  }

  private scaleReplicaSet(namespace: string, name: string, replicas: number, nodes?: readonly string[], ready = true): void {
    const rs = this.api.store.get(RS, namespace, name)!;
    const pods = this.podsOf(rs.metadata.uid!);
    const containers = (rs.spec as any).template.spec.containers as ContainerSpecInput[];
    const labels = (rs.spec as any).template.metadata.labels as Record<string, string>;
    for (let i = pods.length; i < replicas; i++) {
      const pod = this.podFor(namespace, `${name}-${randomBytes(3).toString('hex').slice(0, 5)}`, labels, containers, { apiVersion: 'apps/v1', kind: 'ReplicaSet', name, uid: rs.metadata.uid! }, this.nextNode(nodes));
      if (!ready) markNotReady(pod);
      this.api.store.create(POD, pod);
    }
    for (const p of pods.slice(replicas)) this.api.store.delete(POD, namespace, p.metadata.name);
    this.mutate(RS, namespace, name, (r) => {
      r.spec.replicas = replicas;
      const now = this.podsOf(r.metadata.uid);
      const readyCount = now.filter(isReady).length;
      r.status = { replicas: now.length, fullyLabeledReplicas: now.length, readyReplicas: readyCount, availableReplicas: readyCount, observedGeneration: r.metadata.generation };
    });
  }

  /** Recomputes a deployment's status from its ReplicaSets and pods, as the deployment controller does. */
  syncDeploymentStatus(namespace: string, name: string, stalled = false): KubeObject {
    return this.mutate(DEPLOY, namespace, name, (d) => {
      const revision = d.metadata.annotations['deployment.kubernetes.io/revision'];
      const sets = this.replicaSets(d);
      const current = sets.find((r) => r.metadata.annotations?.['deployment.kubernetes.io/revision'] === revision);
      const pods = sets.flatMap((r) => this.podsOf(r.metadata.uid!));
      const updated = current ? this.podsOf(current.metadata.uid!) : [];
      const ready = pods.filter(isReady).length;
      const t = now();
      const desired = d.spec.replicas;
      const complete = updated.length === desired && updated.every(isReady) && pods.length === desired;
      d.status = {
        observedGeneration: d.metadata.generation,
        replicas: pods.length,
        updatedReplicas: updated.length,
        readyReplicas: ready,
        availableReplicas: ready,
        ...(pods.length - ready > 0 ? { unavailableReplicas: pods.length - ready } : {}),
        conditions: [
          { type: 'Available', status: ready >= desired - Math.floor(desired / 4) ? 'True' : 'False', reason: ready >= desired - Math.floor(desired / 4) ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', message: 'Deployment has minimum availability.', lastUpdateTime: t, lastTransitionTime: t },
          stalled
            ? { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${current?.metadata.name}" has timed out progressing.`, lastUpdateTime: t, lastTransitionTime: t }
            : { type: 'Progressing', status: 'True', reason: complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated', message: `ReplicaSet "${current?.metadata.name}" ${complete ? 'has successfully progressed' : 'is progressing'}.`, lastUpdateTime: t, lastTransitionTime: t },
        ],
      };
    });
  }

  scaleDeployment(namespace: string, name: string, replicas: number): KubeObject {
    const dep = this.mutate(DEPLOY, namespace, name, (d) => (d.spec.replicas = replicas));
    const revision = dep.metadata.annotations!['deployment.kubernetes.io/revision'];
    const current = this.replicaSets(dep).find((r) => r.metadata.annotations?.['deployment.kubernetes.io/revision'] === revision)!;
    this.scaleReplicaSet(namespace, current.metadata.name, replicas);
    return this.syncDeploymentStatus(namespace, name);
  }

  /**
   * A rolling update to `image`: a new ReplicaSet with the next revision takes all replicas, the old
   * one goes to 0. With `stall`, the new pods never become ready and Progressing turns False with
   * ProgressDeadlineExceeded, and the old ReplicaSet keeps its pods.
   */
  rolloutDeployment(namespace: string, name: string, image: string, options: { stall?: boolean } = {}): KubeObject {
    let dep = this.api.store.get(DEPLOY, namespace, name)!;
    const containers = (dep.spec as any).template.spec.containers.map((c: any) => ({ ...c, image })) as ContainerSpecInput[];
    const sets = this.replicaSets(dep);
    const revision = 1 + Math.max(0, ...sets.map((r) => Number(r.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0)));
    dep = this.mutate(DEPLOY, namespace, name, (d) => {
      d.spec.template.spec.containers = containers;
      d.metadata.annotations['deployment.kubernetes.io/revision'] = String(revision);
    });
    return this.switchReplicaSet(dep, containers, revision, options.stall ?? false);
  }

  /** `kubectl rollout undo`: the previous revision's ReplicaSet comes back with a new revision number. */
  rollbackDeployment(namespace: string, name: string): KubeObject {
    const dep = this.api.store.get(DEPLOY, namespace, name)!;
    const sets = this.replicaSets(dep).sort((a, b) => Number(b.metadata.annotations!['deployment.kubernetes.io/revision']) - Number(a.metadata.annotations!['deployment.kubernetes.io/revision']));
    const previous = sets[1];
    if (!previous) throw new Error(`deployment ${namespace}/${name} has no previous revision to roll back to`);
    const containers = (previous.spec as any).template.spec.containers as ContainerSpecInput[];
    const revision = Number(sets[0]!.metadata.annotations!['deployment.kubernetes.io/revision']) + 1;
    const updated = this.mutate(DEPLOY, namespace, name, (d) => {
      d.spec.template.spec.containers = containers;
      d.metadata.annotations['deployment.kubernetes.io/revision'] = String(revision);
    });
    return this.switchReplicaSet(updated, containers, revision, false);
  }

  private switchReplicaSet(dep: KubeObject, containers: readonly ContainerSpecInput[], revision: number, stall: boolean): KubeObject {
    const ns = dep.metadata.namespace!;
    const replicas = (dep.spec as any).replicas as number;
    const podHash = safeHash(`${dep.metadata.name}:${JSON.stringify(containers)}`);
    const existing = this.api.store.get(RS, ns, `${dep.metadata.name}-${podHash}`);
    let target: string;
    if (existing) {
      this.mutate(RS, ns, existing.metadata.name, (r) => (r.metadata.annotations['deployment.kubernetes.io/revision'] = String(revision)));
      this.scaleReplicaSet(ns, existing.metadata.name, replicas, undefined, !stall);
      target = existing.metadata.name;
    } else {
      target = this.newReplicaSetNotReady(dep, containers, revision, replicas, stall);
    }
    if (!stall) for (const r of this.replicaSets(dep)) if (r.metadata.name !== target && (r.spec as any).replicas > 0) this.scaleReplicaSet(ns, r.metadata.name, 0);
    return this.syncDeploymentStatus(ns, dep.metadata.name, stall);
  }

  private newReplicaSetNotReady(dep: KubeObject, containers: readonly ContainerSpecInput[], revision: number, replicas: number, stall: boolean): string {
    if (!stall) return this.newReplicaSet(dep, containers, revision, replicas).metadata.name;
    const rs = this.newReplicaSet(dep, containers, revision, 0);
    this.scaleReplicaSet(dep.metadata.namespace!, rs.metadata.name, replicas, undefined, false);
    for (const p of this.podsOf(rs.metadata.uid!)) this.mutate(POD, p.metadata.namespace, p.metadata.name, (x) => waitingFor(x, 'ImagePullBackOff', `Back-off pulling image "${containers[0]?.image}"`));
    return rs.metadata.name;
  }

  createStatefulSet(input: WorkloadInput): KubeObject {
    const namespace = input.namespace ?? 'default';
    const labels = input.labels ?? { app: input.name };
    const sts = this.put('apps/statefulsets', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: input.name, namespace, labels },
      spec: { replicas: input.replicas, serviceName: input.name, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: this.containers(input) } } },
      status: {},
    });
    for (let i = 0; i < input.replicas; i++) {
      this.api.store.create(POD, this.podFor(namespace, `${input.name}-${i}`, labels, this.containers(input), { apiVersion: 'apps/v1', kind: 'StatefulSet', name: input.name, uid: sts.metadata.uid! }, this.nextNode(input.nodes)));
    }
    return this.mutate('apps/statefulsets', namespace, input.name, (s) => (s.status = { observedGeneration: 1, replicas: input.replicas, readyReplicas: input.replicas, currentReplicas: input.replicas, updatedReplicas: input.replicas, availableReplicas: input.replicas }));
  }

  createDaemonSet(input: Omit<WorkloadInput, 'replicas'>): KubeObject {
    const namespace = input.namespace ?? 'default';
    const labels = input.labels ?? { app: input.name };
    const containers = this.containers({ ...input, replicas: 0 });
    const ds = this.put('apps/daemonsets', {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: input.name, namespace, labels },
      spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers } } },
      status: {},
    });
    const nodes = this.nodeNames();
    for (const node of nodes) {
      this.api.store.create(POD, this.podFor(namespace, `${input.name}-${hash(node, 5)}`, labels, containers, { apiVersion: 'apps/v1', kind: 'DaemonSet', name: input.name, uid: ds.metadata.uid! }, node));
    }
    const n = nodes.length;
    return this.mutate('apps/daemonsets', namespace, input.name, (d) => (d.status = { currentNumberScheduled: n, desiredNumberScheduled: n, numberMisscheduled: 0, numberReady: n, numberAvailable: n, updatedNumberScheduled: n, observedGeneration: 1 }));
  }

  /** A Job with one pod; `fail` makes it end with a Failed condition (BackoffLimitExceeded). */
  createJob(namespace: string, name: string, options: { fail?: boolean; image?: string } = {}): KubeObject {
    const labels = { 'job-name': name };
    const job = this.put('batch/jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, namespace, labels },
      spec: { backoffLimit: 0, completions: 1, parallelism: 1, template: { metadata: { labels }, spec: { restartPolicy: 'Never', containers: [{ name, image: options.image ?? 'busybox:1.36' }] } } },
      status: { active: 1, startTime: now() },
    });
    this.api.store.create(POD, this.podFor(namespace, `${name}-${hash(name, 5)}`, labels, [{ name, image: options.image ?? 'busybox:1.36' }], { apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata.uid! }, this.nextNode()));
    return job;
  }

  finishJob(namespace: string, name: string, succeeded: boolean): KubeObject {
    const t = now();
    return this.mutate('batch/jobs', namespace, name, (j) => {
      j.status = succeeded
        ? { startTime: j.status.startTime, completionTime: t, succeeded: 1, conditions: [{ type: 'Complete', status: 'True', lastProbeTime: t, lastTransitionTime: t }] }
        : { startTime: j.status.startTime, failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastProbeTime: t, lastTransitionTime: t }] };
    });
  }

  createService(namespace: string, name: string, selector: Record<string, string>, port = 80): KubeObject {
    const svc = this.put('/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace },
      spec: { selector, ports: [{ name: 'http', port, protocol: 'TCP', targetPort: port }], type: 'ClusterIP', clusterIP: `10.96.0.${1 + (Number.parseInt(hash(name, 2), 16) % 250)}` },
      status: { loadBalancer: {} },
    });
    const pods = this.api.store.list(POD, namespace).filter((p) => Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v));
    this.put('discovery.k8s.io/endpointslices', {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-${hash(name, 5)}`, namespace, labels: { 'kubernetes.io/service-name': name }, ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata.uid! }] } as ObjectMeta,
      addressType: 'IPv4',
      ports: [{ name: 'http', port, protocol: 'TCP' }],
      endpoints: pods.map((p) => ({ addresses: [(p.status as any).podIP], conditions: { ready: isReady(p) }, nodeName: (p.spec as any).nodeName, targetRef: { kind: 'Pod', namespace, name: p.metadata.name, uid: p.metadata.uid } })),
    });
    return svc;
  }

  createResourceQuota(namespace: string, name: string, hard: Record<string, string>, used: Record<string, string>): KubeObject {
    return this.put('/resourcequotas', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name, namespace }, spec: { hard }, status: { hard, used } });
  }

  /** A core/v1 Event about an object, as a controller or the kubelet records one. */
  recordEvent(involved: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): KubeObject {
    const t = now();
    const ns = involved.metadata.namespace ?? 'default';
    return this.put('/events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${involved.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: ns },
      involvedObject: { apiVersion: involved.apiVersion, kind: involved.kind, name: involved.metadata.name, namespace: involved.metadata.namespace, uid: involved.metadata.uid },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: t,
      lastTimestamp: t,
      source: { component: 'kube-standin' },
      reportingComponent: 'kube-standin',
    });
  }

  // ------------------------------------------------------------------------- container failures

  /** The kubelet's view of a container that keeps crashing: waiting CrashLoopBackOff, last exit Error. */
  crashLoop(namespace: string, podName: string, containerName?: string): KubeObject {
    const t = now();
    const pod = this.mutate(POD, namespace, podName, (p) => {
      const c = pickContainer(p, containerName);
      c.restartCount += 1;
      c.lastState = { terminated: { exitCode: 1, reason: 'Error', startedAt: t, finishedAt: t, containerID: c.containerID } };
      c.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off 10s restarting failed container=${c.name} pod=${podName}_${namespace}(${p.metadata.uid})` } };
      c.ready = false;
      c.started = false;
      setReady(p, false);
    });
    this.recordEvent(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    this.resyncOwner(pod);
    return pod;
  }

  /** A container killed by the kernel's OOM killer and restarted (exit 137, reason OOMKilled). */
  oomKill(namespace: string, podName: string, containerName?: string): KubeObject {
    const t = now();
    const pod = this.mutate(POD, namespace, podName, (p) => {
      const c = pickContainer(p, containerName);
      c.restartCount += 1;
      c.lastState = { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: c.state?.running?.startedAt ?? t, finishedAt: t, containerID: c.containerID } };
      c.containerID = `containerd://${randomBytes(32).toString('hex')}`;
      c.state = { running: { startedAt: t } };
    });
    return pod;
  }

  /** Eviction by the kubelet under node pressure: phase Failed, reason Evicted. */
  evictPod(namespace: string, podName: string, message = 'The node was low on resource: memory.'): KubeObject {
    const pod = this.mutate(POD, namespace, podName, (p) => {
      p.status.phase = 'Failed';
      p.status.reason = 'Evicted';
      p.status.message = message;
      for (const c of p.status.containerStatuses ?? []) {
        c.ready = false;
        c.state = { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', finishedAt: now() } };
      }
      setReady(p, false);
    });
    this.resyncOwner(pod);
    return pod;
  }

  /** The container recovered: running and ready again. */
  recover(namespace: string, podName: string): KubeObject {
    const pod = this.mutate(POD, namespace, podName, (p) => {
      for (const c of p.status.containerStatuses ?? []) {
        c.state = { running: { startedAt: now() } };
        c.ready = true;
        c.started = true;
      }
      setReady(p, true);
    });
    this.resyncOwner(pod);
    return pod;
  }

  private resyncOwner(pod: KubeObject): void {
    const rsRef = pod.metadata.ownerReferences?.find((o) => o.kind === 'ReplicaSet');
    if (!rsRef) return;
    const rs = this.mutate(RS, pod.metadata.namespace, rsRef.name, (r) => {
      const ready = this.podsOf(r.metadata.uid).filter(isReady).length;
      r.status = { ...r.status, readyReplicas: ready, availableReplicas: ready };
    });
    const depRef = rs.metadata.ownerReferences?.find((o) => o.kind === 'Deployment');
    if (depRef) this.syncDeploymentStatus(pod.metadata.namespace!, depRef.name);
  }

  // ------------------------------------------------------------------------------- kubelet usage

  setUsage(namespace: string, pod: string, container: string, usage: Partial<ContainerUsage>): void {
    const key = `${namespace}/${pod}/${container}`;
    this.usage.set(key, { ...this.usageOf(key), ...usage });
  }

  private usageOf(key: string): ContainerUsage {
    const known = this.usage.get(key);
    if (known) return known;
    const h = Number.parseInt(hash(key, 6), 16);
    return { cpuCores: 0.02 + (h % 100) / 1000, workingSetBytes: (32 + (h % 64)) * 1024 * 1024 };
  }

  /** The kubelet's `/stats/summary` (statsapi.Summary) for one node, from the pods placed on it. */
  summary(nodeName: string): Record<string, unknown> | undefined {
    const node = this.api.store.peek(NODE, undefined, nodeName);
    if (!node) return undefined;
    const ready = ((node.status as any).conditions as any[]).find((c) => c.type === 'Ready')?.status === 'True';
    if (!ready) return undefined;
    const t = now();
    const elapsed = (Date.now() - this.startedAt) / 1000 + 3600;
    const pods = this.api.store.list(POD).filter((p) => (p.spec as any).nodeName === nodeName && (p.status as any).phase === 'Running');
    let nodeCpu = 0.2;
    let nodeMem = 512 * 1024 * 1024;
    const podStats = pods.map((p) => {
      let podCpu = 0;
      let podMem = 0;
      const containers = ((p.spec as any).containers as any[]).map((c) => {
        const u = this.usageOf(`${p.metadata.namespace}/${p.metadata.name}/${c.name}`);
        podCpu += u.cpuCores;
        podMem += u.workingSetBytes;
        return {
          name: c.name,
          startTime: (p.status as any).startTime,
          cpu: { time: t, usageNanoCores: Math.round(u.cpuCores * 1e9), usageCoreNanoSeconds: Math.round(u.cpuCores * 1e9 * elapsed) },
          memory: { time: t, usageBytes: Math.round(u.workingSetBytes * 1.2), workingSetBytes: u.workingSetBytes, rssBytes: Math.round(u.workingSetBytes * 0.8), pageFaults: 1000, majorPageFaults: 0 },
          rootfs: { time: t, availableBytes: 50e9, capacityBytes: 100e9, usedBytes: 40960, inodesFree: 6e6, inodes: 6.5e6, inodesUsed: 12 },
          logs: { time: t, availableBytes: 50e9, capacityBytes: 100e9, usedBytes: 8192, inodesFree: 6e6, inodes: 6.5e6, inodesUsed: 1 },
        };
      });
      nodeCpu += podCpu;
      nodeMem += podMem;
      return {
        podRef: { name: p.metadata.name, namespace: p.metadata.namespace, uid: p.metadata.uid },
        startTime: (p.status as any).startTime,
        containers,
        cpu: { time: t, usageNanoCores: Math.round(podCpu * 1e9), usageCoreNanoSeconds: Math.round(podCpu * 1e9 * elapsed) },
        memory: { time: t, usageBytes: Math.round(podMem * 1.2), workingSetBytes: podMem, rssBytes: Math.round(podMem * 0.8), pageFaults: 1000, majorPageFaults: 0 },
        network: { time: t, name: 'eth0', rxBytes: Math.round(elapsed * 2048), rxErrors: 0, txBytes: Math.round(elapsed * 1024), txErrors: 0, interfaces: [{ name: 'eth0', rxBytes: Math.round(elapsed * 2048), rxErrors: 0, txBytes: Math.round(elapsed * 1024), txErrors: 0 }] },
        'ephemeral-storage': { time: t, availableBytes: 50e9, capacityBytes: 100e9, usedBytes: 49152, inodesFree: 6e6, inodes: 6.5e6, inodesUsed: 13 },
      };
    });
    return {
      node: {
        nodeName,
        systemContainers: [],
        startTime: node.metadata.creationTimestamp,
        cpu: { time: t, usageNanoCores: Math.round(nodeCpu * 1e9), usageCoreNanoSeconds: Math.round(nodeCpu * 1e9 * elapsed) },
        memory: { time: t, availableBytes: 16 * 2 ** 30 - nodeMem, usageBytes: Math.round(nodeMem * 1.3), workingSetBytes: nodeMem, rssBytes: Math.round(nodeMem * 0.8), pageFaults: 5000, majorPageFaults: 3 },
        network: { time: t, name: 'eth0', rxBytes: Math.round(elapsed * 65536), rxErrors: 0, txBytes: Math.round(elapsed * 32768), txErrors: 0, interfaces: [{ name: 'eth0', rxBytes: Math.round(elapsed * 65536), rxErrors: 0, txBytes: Math.round(elapsed * 32768), txErrors: 0 }] },
        fs: { time: t, availableBytes: 60e9, capacityBytes: 100e9, usedBytes: 40e9, inodesFree: 6e6, inodes: 6.5e6, inodesUsed: 5e5 },
        runtime: { imageFs: { time: t, availableBytes: 60e9, capacityBytes: 100e9, usedBytes: 10e9, inodesFree: 6e6, inodes: 6.5e6, inodesUsed: 1e5 } },
      },
      pods: podStats,
    };
  }
}

function isReady(p: KubeObject): boolean {
  const s = p.status as any;
  return s?.phase === 'Running' && (s.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

function setReady(p: any, ready: boolean): void {
  for (const c of p.status.conditions ?? []) if (c.type === 'Ready' || c.type === 'ContainersReady') {
    c.status = ready ? 'True' : 'False';
    c.lastTransitionTime = now();
  }
}

function markNotReady(p: any): void {
  for (const c of p.status.containerStatuses) c.ready = false;
  setReady(p, false);
}

function waitingFor(p: any, reason: string, message: string): void {
  for (const c of p.status.containerStatuses) c.state = { waiting: { reason, message } };
  p.status.phase = 'Pending';
  markNotReady(p);
}

function pickContainer(p: any, name?: string): any {
  const c = name ? p.status.containerStatuses.find((x: any) => x.name === name) : p.status.containerStatuses[0];
  if (!c) throw new Error(`pod ${p.metadata.name} has no container ${name ?? ''}`);
  return c;
}
