/**
 * The parts of the Docker Engine API (v1.24+, also served by Podman's Docker-compatible service)
 * Sextant reads — containers, events, and the swarm endpoints (/info's Swarm section, /nodes,
 * /services, /tasks) — and the normalised view of a container. Engine responses are untrusted
 * input: every field is optional here and checked by whoever normalises it.
 */

export interface EngineVersion {
  readonly ApiVersion?: string;
  readonly MinAPIVersion?: string;
  readonly Version?: string;
  readonly Components?: readonly { readonly Name?: string; readonly Version?: string }[];
  readonly Platform?: { readonly Name?: string };
}

export interface EngineListEntry {
  readonly Id?: string;
  readonly Names?: readonly string[];
  readonly Image?: string;
  readonly Labels?: Record<string, string> | null;
  readonly State?: string;
}

export interface EngineInspect {
  readonly Id?: string;
  readonly Name?: string;
  readonly Image?: string;
  readonly RestartCount?: number;
  readonly State?: {
    readonly Status?: string;
    readonly Pid?: number;
    readonly ExitCode?: number;
    readonly OOMKilled?: boolean;
    readonly StartedAt?: string;
    readonly Health?: { readonly Status?: string } | null;
  };
  readonly Config?: {
    readonly Image?: string;
    readonly Labels?: Record<string, string> | null;
    readonly ExposedPorts?: Record<string, unknown> | null;
    readonly Hostname?: string;
  };
  readonly HostConfig?: {
    readonly NanoCpus?: number;
    readonly CpuQuota?: number;
    readonly CpuPeriod?: number;
    readonly Memory?: number;
    readonly NetworkMode?: string;
  };
  readonly NetworkSettings?: {
    readonly Networks?: Record<string, { readonly IPAddress?: string; readonly GlobalIPv6Address?: string } | null> | null;
    readonly Ports?: Record<string, readonly { readonly HostIp?: string; readonly HostPort?: string }[] | null> | null;
  };
}

/** One message of the `/events` stream. */
export interface EngineEvent {
  /** `container`, `service`, `node`, `network`, `config`, `secret`, ... (swarm has no task events). */
  readonly Type?: string;
  readonly Action?: string;
  readonly status?: string;
  readonly id?: string;
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Record<string, string> };
  /** `local` or `swarm`. */
  readonly scope?: string;
  /** Seconds since the epoch. */
  readonly time?: number;
  /** Nanoseconds since the epoch: the resume cursor of the stream. */
  readonly timeNano?: number;
}

/** `/info`: host capacity and, on a swarm member, the local node's swarm state. */
export interface EngineInfo {
  readonly Name?: string;
  readonly NCPU?: number;
  readonly MemTotal?: number;
  readonly ServerVersion?: string;
  readonly Swarm?: EngineSwarmInfo;
}

export interface EngineSwarmInfo {
  readonly NodeID?: string;
  readonly NodeAddr?: string;
  /** `inactive`, `pending`, `active`, `error` or `locked`. */
  readonly LocalNodeState?: string;
  /** True on a manager: the cluster endpoints (/nodes, /services, /tasks) answer here. */
  readonly ControlAvailable?: boolean;
  readonly Error?: string;
  readonly Nodes?: number;
  readonly Managers?: number;
  readonly Cluster?: { readonly ID?: string; readonly Spec?: { readonly Name?: string } };
}

/** `/nodes` entry. */
export interface SwarmNode {
  readonly ID?: string;
  readonly Version?: { readonly Index?: number };
  readonly Spec?: {
    readonly Name?: string;
    readonly Labels?: Record<string, string> | null;
    /** `worker` or `manager`. */
    readonly Role?: string;
    /** `active`, `pause` or `drain`. */
    readonly Availability?: string;
  };
  readonly Description?: {
    readonly Hostname?: string;
    readonly Platform?: { readonly Architecture?: string; readonly OS?: string };
    readonly Resources?: { readonly NanoCPUs?: number; readonly MemoryBytes?: number };
    readonly Engine?: { readonly EngineVersion?: string };
  };
  readonly Status?: {
    /** `unknown`, `down`, `ready` or `disconnected`. */
    readonly State?: string;
    readonly Message?: string;
    readonly Addr?: string;
  };
  readonly ManagerStatus?: {
    readonly Leader?: boolean;
    /** `unknown`, `unreachable` or `reachable`. */
    readonly Reachability?: string;
    readonly Addr?: string;
  } | null;
}

export interface SwarmPortConfig {
  readonly Name?: string;
  readonly Protocol?: string;
  readonly TargetPort?: number;
  readonly PublishedPort?: number;
  /** `ingress` or `host`. */
  readonly PublishMode?: string;
}

/** `/services?status=true` entry. */
export interface SwarmService {
  readonly ID?: string;
  readonly Version?: { readonly Index?: number };
  readonly CreatedAt?: string;
  readonly UpdatedAt?: string;
  readonly Spec?: {
    readonly Name?: string;
    readonly Labels?: Record<string, string> | null;
    readonly TaskTemplate?: {
      readonly ContainerSpec?: { readonly Image?: string; readonly Labels?: Record<string, string> | null };
      readonly ForceUpdate?: number;
    };
    readonly Mode?: {
      readonly Replicated?: { readonly Replicas?: number };
      readonly Global?: Record<string, never>;
      readonly ReplicatedJob?: { readonly MaxConcurrent?: number; readonly TotalCompletions?: number };
      readonly GlobalJob?: Record<string, never>;
    };
    readonly EndpointSpec?: { readonly Mode?: string; readonly Ports?: readonly SwarmPortConfig[] | null };
  };
  readonly Endpoint?: { readonly Ports?: readonly SwarmPortConfig[] | null };
  readonly UpdateStatus?: {
    /** `updating`, `paused`, `completed`, `rollback_started`, `rollback_paused` or `rollback_completed`. */
    readonly State?: string;
    readonly StartedAt?: string;
    readonly CompletedAt?: string;
    readonly Message?: string;
  } | null;
  /** Only with `?status=true` (API 1.41+). */
  readonly ServiceStatus?: { readonly RunningTasks?: number; readonly DesiredTasks?: number; readonly CompletedTasks?: number } | null;
}

/** `/tasks` entry. */
export interface SwarmTask {
  readonly ID?: string;
  readonly Version?: { readonly Index?: number };
  readonly CreatedAt?: string;
  readonly UpdatedAt?: string;
  readonly Name?: string;
  readonly Labels?: Record<string, string> | null;
  readonly Spec?: { readonly ContainerSpec?: { readonly Image?: string }; readonly ForceUpdate?: number };
  readonly ServiceID?: string;
  /** Replica number of a replicated service; absent for global services. */
  readonly Slot?: number;
  readonly NodeID?: string;
  readonly Status?: {
    readonly Timestamp?: string;
    /** `new` ... `running`, `complete`, `shutdown`, `failed`, `rejected`, `remove`, `orphaned`. */
    readonly State?: string;
    readonly Message?: string;
    readonly Err?: string;
    readonly ContainerStatus?: { readonly ContainerID?: string; readonly PID?: number; readonly ExitCode?: number } | null;
  };
  readonly DesiredState?: string;
}

export interface ContainerPortInfo {
  readonly port: number;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly hostPort?: number;
  readonly hostIp?: string;
}

/** A container as the collector tracks it (normalised from inspect). */
export interface ContainerInfo {
  readonly id: string;
  /** Without the leading slash. */
  readonly name: string;
  /** Reference the container was created from (`Config.Image`): `nginx:1.25`. */
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly state: string;
  /** Host pid of the init process; 0 when not running. */
  readonly pid: number;
  readonly exitCode: number;
  readonly oomKilled: boolean;
  /** `healthy`, `unhealthy`, `starting`, or undefined without a health check. */
  readonly health: string | undefined;
  readonly restartCount: number;
  readonly ipAddresses: readonly string[];
  readonly ports: readonly ContainerPortInfo[];
  readonly networkMode: string;
  /** CPU limit in cores from NanoCpus or quota/period; undefined when unlimited. */
  readonly cpuLimitCores: number | undefined;
  /** Memory limit in bytes; undefined when unlimited. */
  readonly memoryLimitBytes: number | undefined;
}

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

function positive(n: unknown): number | undefined {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

/** Normalises an inspect response; undefined when it lacks an id. Never throws. */
export function containerInfoFromInspect(raw: EngineInspect): ContainerInfo | undefined {
  if (typeof raw !== 'object' || raw === null || typeof raw.Id !== 'string' || raw.Id.length === 0) return undefined;
  const hc = raw.HostConfig ?? {};
  const state = raw.State ?? {};
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw.Config?.Labels ?? {})) if (typeof v === 'string') labels[k] = v;
  const ports = new Map<string, ContainerPortInfo>();
  for (const key of Object.keys(raw.Config?.ExposedPorts ?? {})) {
    const p = parsePortKey(key);
    if (p) ports.set(key, p);
  }
  for (const [key, bindings] of Object.entries(raw.NetworkSettings?.Ports ?? {})) {
    const p = parsePortKey(key);
    if (!p) continue;
    const b = Array.isArray(bindings) ? bindings[0] : undefined;
    const hostPort = Number(b?.HostPort);
    ports.set(key, { ...p, ...(Number.isInteger(hostPort) && hostPort > 0 ? { hostPort, hostIp: b?.HostIp || '0.0.0.0' } : {}) });
  }
  const ips: string[] = [];
  for (const name of Object.keys(raw.NetworkSettings?.Networks ?? {}).sort()) {
    const n = raw.NetworkSettings?.Networks?.[name];
    if (n?.IPAddress) ips.push(n.IPAddress);
    if (n?.GlobalIPv6Address) ips.push(n.GlobalIPv6Address);
  }
  const nano = positive(hc.NanoCpus);
  const quota = positive(hc.CpuQuota);
  const cpuLimitCores = nano !== undefined ? nano / 1e9 : quota !== undefined ? quota / (positive(hc.CpuPeriod) ?? 100_000) : undefined;
  const pid = typeof state.Pid === 'number' && state.Pid > 0 ? state.Pid : 0;
  return {
    id: raw.Id,
    name: (raw.Name ?? raw.Id.slice(0, 12)).replace(/^\//, ''),
    image: raw.Config?.Image ?? raw.Image ?? '',
    labels,
    state: typeof state.Status === 'string' ? state.Status : 'unknown',
    pid,
    exitCode: typeof state.ExitCode === 'number' ? state.ExitCode : 0,
    oomKilled: state.OOMKilled === true,
    health: typeof state.Health?.Status === 'string' ? state.Health.Status : undefined,
    restartCount: typeof raw.RestartCount === 'number' ? raw.RestartCount : 0,
    ipAddresses: ips,
    ports: [...ports.values()].sort((a, b) => a.port - b.port),
    networkMode: hc.NetworkMode || 'default',
    cpuLimitCores,
    memoryLimitBytes: positive(hc.Memory),
  };
}

function parsePortKey(key: string): { port: number; protocol: 'tcp' | 'udp' | 'sctp' } | undefined {
  const [portText, proto = 'tcp'] = key.split('/');
  const port = Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535 || !PROTOCOLS.has(proto)) return undefined;
  return { port, protocol: proto as 'tcp' | 'udp' | 'sctp' };
}
