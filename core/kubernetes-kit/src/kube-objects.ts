/**
 * Reading Kubernetes objects defensively: resource quantities, owner chains, container ids and the
 * OpenTelemetry resource attributes of pods and containers. Every reader tolerates missing or
 * unexpected optional fields (a missing status, an unknown phase, a quantity it cannot parse).
 */
import { CONTAINER_ENTITY_KEYS, type Attributes, type TopologyEntity } from '@sextant/plugin-api';
import type { KubeObject } from './resource-informer.js';

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A resource.Quantity (`100m`, `1.5`, `128Mi`, `1e3`) as a number; NaN when it is not one. */
export function parseQuantity(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : Number.NaN;
  if (typeof value !== 'string') return Number.NaN;
  const m = value.trim().match(/^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/);
  if (!m) return Number.NaN;
  const n = Number(m[1]) * (m[2] ? 10 ** Number(m[2].slice(1)) : SUFFIX[m[3] ?? '']!);
  return Number.isFinite(n) ? n : Number.NaN;
}

/** `containerd://abc` / `docker://abc` / `cri-o://abc` -> `abc`; undefined when absent. */
export function containerIdOf(status: { containerID?: unknown } | undefined): string | undefined {
  const raw = status?.containerID;
  if (typeof raw !== 'string' || !raw) return undefined;
  const i = raw.indexOf('://');
  const id = i >= 0 ? raw.slice(i + 3) : raw;
  return /^[A-Za-z0-9._-]{1,128}$/.test(id) ? id : undefined;
}

/** The pod phase as k8sclusterreceiver encodes it: 1 Pending, 2 Running, 3 Succeeded, 4 Failed, 5 Unknown. */
export function phaseValue(phase: unknown): number {
  switch (phase) {
    case 'Pending':
      return 1;
    case 'Running':
      return 2;
    case 'Succeeded':
      return 3;
    case 'Failed':
      return 4;
    default:
      return 5;
  }
}

/** Condition status as a number: True 1, False 0, anything else (Unknown) -1. */
export function conditionValue(status: unknown): number {
  return status === 'True' ? 1 : status === 'False' ? 0 : -1;
}

export interface Workload {
  /** `Deployment`, `StatefulSet`, `DaemonSet`, `Job`, `CronJob`, `ReplicaSet`, or an extension's kind. */
  readonly kind: string;
  readonly name: string;
}

/**
 * The pod's controller and the workload at the top of its chain, without asking the API server:
 * a ReplicaSet named `<deployment>-<pod-template-hash>` belongs to that Deployment (the
 * convention the deployment controller follows and the OpenTelemetry k8sattributes processor
 * relies on); a Job named `<cronjob>-<digits>` belongs to that CronJob.
 */
export function podOwners(pod: KubeObject): { controller?: Workload; top?: Workload } {
  const ref = pod.metadata.ownerReferences?.find((o) => o.controller) ?? pod.metadata.ownerReferences?.[0];
  if (!ref?.kind || !ref.name) return {};
  const controller = { kind: ref.kind, name: ref.name };
  if (ref.kind === 'ReplicaSet') {
    const hash = pod.metadata.labels?.['pod-template-hash'];
    if (hash && ref.name.endsWith(`-${hash}`)) return { controller, top: { kind: 'Deployment', name: ref.name.slice(0, -hash.length - 1) } };
    return { controller, top: controller };
  }
  if (ref.kind === 'Job') {
    const m = ref.name.match(/^(.+)-\d{8,}$/);
    return { controller, top: m ? { kind: 'CronJob', name: m[1]! } : controller };
  }
  return { controller, top: controller };
}

const WORKLOAD_KEY: Record<string, string> = {
  Deployment: 'k8s.deployment.name',
  ReplicaSet: 'k8s.replicaset.name',
  StatefulSet: 'k8s.statefulset.name',
  DaemonSet: 'k8s.daemonset.name',
  Job: 'k8s.job.name',
  CronJob: 'k8s.cronjob.name',
};

/** Topology id of a workload: `k8s.deployment:<namespace>/<name>`. */
export function workloadEntityId(namespace: string, w: Workload): string {
  return `k8s.${w.kind.toLowerCase()}:${namespace}/${w.name}`;
}

/** Resource attributes of a pod (OpenTelemetry k8s semantic conventions). */
export function podResource(pod: KubeObject, clusterName: string | undefined, extra: Attributes = {}): Attributes {
  const out: Record<string, string | number | boolean> = {
    'k8s.namespace.name': pod.metadata.namespace ?? '',
    'k8s.pod.name': pod.metadata.name,
    'k8s.pod.uid': pod.metadata.uid,
  };
  const node = pod.spec?.nodeName;
  if (typeof node === 'string' && node) out['k8s.node.name'] = node;
  if (clusterName) out['k8s.cluster.name'] = clusterName;
  const { controller, top } = podOwners(pod);
  for (const w of [controller, top]) {
    const key = w && WORKLOAD_KEY[w.kind];
    if (key) out[key] = w.name;
  }
  // service.name as the OpenTelemetry guidance for Kubernetes derives it: the
  // app.kubernetes.io/name label, else the workload's name, else the pod's. The correlator relates
  // a deploy to the anomalies of the same service.name.
  out['service.name'] = pod.metadata.labels?.['app.kubernetes.io/name'] ?? top?.name ?? pod.metadata.name;
  return { ...out, ...extra };
}

export interface ContainerView {
  readonly name: string;
  readonly id: string | undefined;
  readonly image: string | undefined;
  readonly status: any;
  readonly requests: { cpu: number; memory: number };
  readonly limits: { cpu: number; memory: number };
}

/** Spec and status of every container of a pod, joined by name. */
export function podContainers(pod: KubeObject): ContainerView[] {
  const specs: any[] = Array.isArray(pod.spec?.containers) ? pod.spec.containers : [];
  const statuses: any[] = Array.isArray(pod.status?.containerStatuses) ? pod.status.containerStatuses : [];
  return specs
    .filter((s) => s && typeof s.name === 'string')
    .map((s) => {
      const status = statuses.find((x) => x?.name === s.name);
      return {
        name: s.name as string,
        id: containerIdOf(status),
        image: typeof s.image === 'string' ? s.image : undefined,
        status,
        requests: { cpu: parseQuantity(s.resources?.requests?.cpu), memory: parseQuantity(s.resources?.requests?.memory) },
        limits: { cpu: parseQuantity(s.resources?.limits?.cpu), memory: parseQuantity(s.resources?.limits?.memory) },
      };
    });
}

/** `nginx:1.25` -> `nginx`; `reg:5000/a/b@sha256:..` -> `reg:5000/a/b`. */
export function imageName(reference: string): string {
  const at = reference.indexOf('@');
  if (at >= 0) return reference.slice(0, at);
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  return colon > slash ? reference.slice(0, colon) : reference;
}

export function containerResource(podRes: Attributes, c: ContainerView): Attributes {
  return {
    ...podRes,
    'k8s.container.name': c.name,
    ...(c.id ? { 'container.id': c.id } : {}),
    ...(c.image ? { 'container.image.name': imageName(c.image) } : {}),
  };
}

/** The pod annotation that overrides autodiscovery for one container, like the docker label. */
export const pluginsAnnotation = (container: string) => `sextant.io/${container}.plugins`;

/** Pod annotations that ask for a Prometheus scrape (`prometheus.io/scrape|port|path|scheme`). */
export const PROMETHEUS_ANNOTATION_PREFIX = 'prometheus.io/';

/**
 * The container of a pod that carries the pod's `prometheus.io/*` annotations: the one that
 * declares the annotated `prometheus.io/port`, else the first container. One container only, so a
 * pod of several containers is scraped once (the annotations describe the pod, not a container).
 */
export function prometheusContainerName(pod: KubeObject): string | undefined {
  const specs: any[] = Array.isArray(pod.spec?.containers) ? pod.spec.containers : [];
  const port = Number(pod.metadata.annotations?.[`${PROMETHEUS_ANNOTATION_PREFIX}port`]);
  const declaring = Number.isInteger(port) ? specs.find((s) => Array.isArray(s?.ports) && s.ports.some((p: any) => p?.containerPort === port)) : undefined;
  const chosen = declaring ?? specs.find((s) => s && typeof s.name === 'string');
  return typeof chosen?.name === 'string' ? chosen.name : undefined;
}

/**
 * A `container:<id>` entity for the runtime's autodiscovery, in the containers collector's shape:
 * the pod's labels plus the kubelet's `io.kubernetes.*` labels as container labels, the pod
 * annotation `sextant.io/<container>.plugins` as the `io.sextant.plugins` label, the pod IP, and
 * the container's declared ports. The pod's `prometheus.io/*` annotations become labels of one of
 * its containers ({@link prometheusContainerName}), so the Prometheus plugin's discovery rule
 * (`prometheus.io/scrape=true`, port and path from the same keys) scrapes annotated pods exactly as
 * it scrapes labelled Docker containers; an annotation wins over a pod label of the same key.
 */
export function containerEntity(pod: KubeObject, c: ContainerView): TopologyEntity {
  const K = CONTAINER_ENTITY_KEYS;
  const labels: Record<string, string> = {
    ...(pod.metadata.labels ?? {}),
    'io.kubernetes.pod.name': pod.metadata.name,
    'io.kubernetes.pod.namespace': pod.metadata.namespace ?? '',
    'io.kubernetes.pod.uid': pod.metadata.uid,
    'io.kubernetes.container.name': c.name,
  };
  const override = pod.metadata.annotations?.[pluginsAnnotation(c.name)];
  if (typeof override === 'string') labels['io.sextant.plugins'] = override;
  if (prometheusContainerName(pod) === c.name) {
    for (const [key, value] of Object.entries(pod.metadata.annotations ?? {})) {
      if (key.startsWith(PROMETHEUS_ANNOTATION_PREFIX) && typeof value === 'string') labels[key] = value;
    }
  }
  const spec = (Array.isArray(pod.spec?.containers) ? pod.spec.containers : []).find((x: any) => x?.name === c.name);
  const ports = (Array.isArray(spec?.ports) ? spec.ports : [])
    .filter((p: any) => Number.isInteger(p?.containerPort) && p.containerPort > 0 && p.containerPort < 65536)
    .map((p: any) => ({ port: p.containerPort as number, protocol: String(p.protocol ?? 'TCP').toLowerCase() }));
  const podIP = typeof pod.status?.podIP === 'string' ? [pod.status.podIP as string] : [];
  const running = c.status?.state?.running !== undefined;
  return {
    id: `container:${c.id}`,
    type: 'container',
    name: `${pod.metadata.name}/${c.name}`,
    attributes: {
      [K.id]: c.id ?? '',
      [K.name]: `${pod.metadata.name}/${c.name}`,
      ...(c.image ? { 'container.image.name': imageName(c.image), [K.imageRef]: c.image } : {}),
      [K.labels]: JSON.stringify(labels),
      [K.state]: running ? 'running' : 'exited',
      [K.ipAddresses]: JSON.stringify(podIP),
      [K.ports]: JSON.stringify(ports),
      [K.networkMode]: 'pod',
      'k8s.pod.uid': pod.metadata.uid,
      'k8s.container.name': c.name,
    },
  };
}
