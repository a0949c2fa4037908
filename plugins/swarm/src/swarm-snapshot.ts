/**
 * One poll of a manager (`/nodes`, `/services?status=true`, `/tasks`) normalised into a snapshot
 * with per-service and per-node aggregates, in one pass over the tasks. Engine responses are
 * untrusted: entries without an id are skipped (and counted), unknown enum values are kept as
 * text, numbers that are not finite become 0.
 */
import type { SwarmNode, SwarmService, SwarmTask } from '@sextant/docker-engine';
import { STACK_LABEL } from './swarm-keys.js';

/** Task states folded into the five buckets the metrics report. */
export const TASK_BUCKETS = ['pending', 'running', 'complete', 'failed', 'shutdown'] as const;
export type TaskBucket = (typeof TASK_BUCKETS)[number];

const BUCKET_OF: Readonly<Record<string, TaskBucket>> = {
  new: 'pending', allocated: 'pending', pending: 'pending', assigned: 'pending', accepted: 'pending',
  preparing: 'pending', ready: 'pending', starting: 'pending',
  running: 'running',
  complete: 'complete',
  failed: 'failed', rejected: 'failed',
  shutdown: 'shutdown', remove: 'shutdown', orphaned: 'shutdown',
};

/** Update states in which tasks may still run an older spec. */
const UPDATING = new Set(['updating', 'paused', 'rollback_started', 'rollback_paused']);

export function taskBucket(state: string): TaskBucket {
  return BUCKET_OF[state] ?? 'pending';
}

export type ServiceMode = 'replicated' | 'global' | 'replicated-job' | 'global-job' | 'unknown';

export interface PublishedPort {
  readonly targetPort: number;
  readonly publishedPort: number;
  readonly protocol: string;
  readonly publishMode: string;
}

export interface NodeView {
  readonly id: string;
  readonly hostname: string;
  /** `worker` or `manager`. */
  readonly role: string;
  /** `active`, `pause` or `drain`. */
  readonly availability: string;
  /** `ready`, `down`, `unknown` or `disconnected`. */
  readonly state: string;
  readonly stateMessage: string;
  readonly leader: boolean;
  /** Managers only: `reachable`, `unreachable`, `unknown`; '' on workers. */
  readonly reachability: string;
  readonly engineVersion: string;
  /** Cores (NanoCPUs / 1e9). */
  readonly cpus: number;
  readonly memoryBytes: number;
  /** Tasks on the node whose current state is running. */
  runningTasks: number;
}

export interface TaskView {
  readonly id: string;
  readonly serviceId: string;
  readonly nodeId: string;
  readonly slot: number;
  readonly state: string;
  readonly desiredState: string;
  readonly containerId: string;
  readonly exitCode: number | undefined;
  readonly error: string;
  /** Milliseconds; when the task reached its current state. */
  readonly timestamp: number;
  readonly image: string;
}

export interface ServiceView {
  readonly id: string;
  readonly name: string;
  readonly mode: ServiceMode;
  readonly image: string;
  readonly stack: string | undefined;
  readonly ports: readonly PublishedPort[];
  /** Replicated: the spec's replicas. Global: tasks the orchestrator wants running (one per eligible node). */
  desired: number;
  running: number;
  /** Tasks by bucket, indexed like {@link TASK_BUCKETS} (retained history included). */
  readonly tasks: Int32Array;
  /** `updating`, `paused`, `completed`, `rollback_started`, `rollback_paused`, `rollback_completed`, or ''. */
  readonly updateState: string;
  readonly updateMessage: string;
  /** Running tasks that run the current container spec and force-update counter, for update progress. */
  current: number;
  /** The spec fingerprint tasks are compared with. */
  readonly specKey: string;
  readonly versionIndex: number;
}

export interface SwarmSnapshot {
  readonly nodes: NodeView[];
  readonly services: ServiceView[];
  /** Tasks that are meant to run (desired state not shutdown/remove): the live part of the graph. */
  readonly liveTasks: TaskView[];
  /** Tasks in a failed state (failed or rejected), for restart counting and failure tracking. */
  readonly failedTasks: TaskView[];
  readonly taskCount: number;
  /** Entries without an id, dropped. */
  readonly malformed: number;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
/** Counts and capacities: finite and not negative, else 0. */
const amount = (v: unknown): number => Math.max(0, num(v));

function serviceMode(mode: NonNullable<SwarmService['Spec']>['Mode']): ServiceMode {
  if (!mode) return 'unknown';
  if (mode.Replicated) return 'replicated';
  if (mode.Global) return 'global';
  if (mode.ReplicatedJob) return 'replicated-job';
  if (mode.GlobalJob) return 'global-job';
  return 'unknown';
}

function portsOf(s: SwarmService): PublishedPort[] {
  const raw = Array.isArray(s.Endpoint?.Ports) ? s.Endpoint.Ports : Array.isArray(s.Spec?.EndpointSpec?.Ports) ? s.Spec.EndpointSpec.Ports : [];
  const out: PublishedPort[] = [];
  for (const p of raw) {
    const target = num(p?.TargetPort);
    if (target <= 0) continue;
    out.push({ targetPort: target, publishedPort: num(p.PublishedPort), protocol: str(p.Protocol) || 'tcp', publishMode: str(p.PublishMode) || 'ingress' });
  }
  return out;
}

/** Image reference without the `@sha256:` digest the engine pins after resolving it. */
export function imageWithoutDigest(image: string): string {
  const at = image.indexOf('@');
  return at >= 0 ? image.slice(0, at) : image;
}

export function buildSnapshot(rawNodes: unknown, rawServices: unknown, rawTasks: unknown): SwarmSnapshot {
  let malformed = 0;
  const nodes: NodeView[] = [];
  const nodeById = new Map<string, NodeView>();
  for (const n of (Array.isArray(rawNodes) ? rawNodes : []) as SwarmNode[]) {
    if (typeof n?.ID !== 'string' || !n.ID) {
      malformed++;
      continue;
    }
    const view: NodeView = {
      id: n.ID,
      hostname: str(n.Description?.Hostname) || n.ID.slice(0, 12),
      role: str(n.Spec?.Role) || 'worker',
      availability: str(n.Spec?.Availability) || 'active',
      state: str(n.Status?.State) || 'unknown',
      stateMessage: str(n.Status?.Message),
      leader: n.ManagerStatus?.Leader === true,
      reachability: str(n.ManagerStatus?.Reachability),
      engineVersion: str(n.Description?.Engine?.EngineVersion),
      cpus: amount(n.Description?.Resources?.NanoCPUs) / 1e9,
      memoryBytes: amount(n.Description?.Resources?.MemoryBytes),
      runningTasks: 0,
    };
    nodes.push(view);
    nodeById.set(view.id, view);
  }

  const services: ServiceView[] = [];
  const serviceById = new Map<string, ServiceView>();
  for (const s of (Array.isArray(rawServices) ? rawServices : []) as SwarmService[]) {
    if (typeof s?.ID !== 'string' || !s.ID) {
      malformed++;
      continue;
    }
    const mode = serviceMode(s.Spec?.Mode);
    const image = str(s.Spec?.TaskTemplate?.ContainerSpec?.Image);
    const view: ServiceView = {
      id: s.ID,
      name: str(s.Spec?.Name) || s.ID,
      mode,
      image: imageWithoutDigest(image),
      stack: str(s.Spec?.Labels?.[STACK_LABEL]) || undefined,
      ports: portsOf(s),
      desired: mode === 'replicated' ? amount(s.Spec?.Mode?.Replicated?.Replicas) : 0,
      running: 0,
      tasks: new Int32Array(TASK_BUCKETS.length),
      updateState: str(s.UpdateStatus?.State),
      updateMessage: str(s.UpdateStatus?.Message),
      current: 0,
      specKey: `${JSON.stringify(s.Spec?.TaskTemplate?.ContainerSpec ?? null)}|${num(s.Spec?.TaskTemplate?.ForceUpdate)}`,
      versionIndex: num(s.Version?.Index),
    };
    services.push(view);
    serviceById.set(view.id, view);
  }

  const liveTasks: TaskView[] = [];
  const failedTasks: TaskView[] = [];
  const desiredRunning = new Map<string, number>();
  let taskCount = 0;
  for (const t of (Array.isArray(rawTasks) ? rawTasks : []) as SwarmTask[]) {
    if (typeof t?.ID !== 'string' || !t.ID) {
      malformed++;
      continue;
    }
    taskCount++;
    const state = str(t.Status?.State) || 'new';
    const desiredState = str(t.DesiredState) || 'running';
    const serviceId = str(t.ServiceID);
    const exit = t.Status?.ContainerStatus?.ExitCode;
    const image = str(t.Spec?.ContainerSpec?.Image);
    const view: TaskView = {
      id: t.ID,
      serviceId,
      nodeId: str(t.NodeID),
      slot: amount(t.Slot),
      state,
      desiredState,
      containerId: str(t.Status?.ContainerStatus?.ContainerID),
      exitCode: typeof exit === 'number' && Number.isFinite(exit) ? exit : undefined,
      error: str(t.Status?.Err),
      timestamp: Date.parse(str(t.Status?.Timestamp) || str(t.UpdatedAt)) || 0,
      image: imageWithoutDigest(image),
    };
    const bucket = taskBucket(state);
    const service = serviceById.get(serviceId);
    if (service) {
      service.tasks[TASK_BUCKETS.indexOf(bucket)]++;
      if (bucket === 'running') {
        service.running++;
        // Only an update in progress needs the comparison (and its cost); a converged service runs its spec.
        if (!UPDATING.has(service.updateState) || `${JSON.stringify(t.Spec?.ContainerSpec ?? null)}|${num(t.Spec?.ForceUpdate)}` === service.specKey) service.current++;
      }
      if (desiredState === 'running') desiredRunning.set(serviceId, (desiredRunning.get(serviceId) ?? 0) + 1);
    }
    if (bucket === 'running') {
      const node = nodeById.get(view.nodeId);
      if (node) node.runningTasks++;
    }
    if (bucket === 'failed') failedTasks.push(view);
    if (desiredState !== 'shutdown' && desiredState !== 'remove') liveTasks.push(view);
  }
  for (const s of services) {
    // Global services have no replica count: what the orchestrator wants running is the tasks it
    // keeps with desired state running (ServiceStatus.DesiredTasks says the same on API 1.41+).
    if (s.mode !== 'replicated') s.desired = desiredRunning.get(s.id) ?? 0;
  }
  return { nodes, services, liveTasks, failedTasks, taskCount, malformed };
}

/** Share of the desired replicas already running the current spec, 0..1 (1 when nothing is wanted). */
export function updateProgress(s: ServiceView): number {
  if (s.desired <= 0) return 1;
  return Math.min(1, s.current / s.desired);
}
