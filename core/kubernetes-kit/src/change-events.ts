/**
 * Change events from object transitions, so the correlator can say "started 2 min after deploy X":
 * rollouts (new revision, stalled, rollback), scaling, containers OOM-killed or crash-looping, pods
 * evicted, nodes going NotReady and back, failed jobs. Each function compares the previous and the
 * current object and returns the events the change means (none on a first sight).
 */
import type { Attributes, SextantEvent } from '@sextant/plugin-api';
import { podContainers } from './kube-objects.js';
import type { KubeObject } from './resource-informer.js';

type Draft = Omit<SextantEvent, 'timestamp' | 'source'>;

const REVISION = 'deployment.kubernetes.io/revision';

function images(o: KubeObject | undefined): string {
  const cs: any[] = o?.spec?.template?.spec?.containers ?? [];
  return cs.map((c) => `${c?.name}=${c?.image}`).join(',');
}

function imageList(o: KubeObject | undefined): string {
  const cs: any[] = o?.spec?.template?.spec?.containers ?? [];
  return cs.map((c) => String(c?.image)).join(', ');
}

function condition(o: KubeObject | undefined, type: string): any {
  const list: any[] = Array.isArray(o?.status?.conditions) ? o!.status.conditions : [];
  return list.find((c) => c?.type === type);
}

/** A workload's resource, with the same `service.name` its pods carry (see podResource). */
export function workloadResource(o: KubeObject, key: string): Attributes {
  const name = o.spec?.template?.metadata?.labels?.['app.kubernetes.io/name'];
  return { 'k8s.namespace.name': o.metadata.namespace ?? '', [key]: o.metadata.name, 'service.name': typeof name === 'string' && name ? name : o.metadata.name };
}

/**
 * Deployment transitions. `templateRevisions` remembers which pod template (images) each revision
 * had, per deployment uid, so a new revision whose template an older revision had is a rollback.
 */
export function deploymentChanges(old: KubeObject, cur: KubeObject, templateRevisions: Map<string, Map<string, number>>): Draft[] {
  const out: Draft[] = [];
  const name = `${cur.metadata.namespace}/${cur.metadata.name}`;
  const resource = workloadResource(cur, 'k8s.deployment.name');
  const oldRev = Number(old.metadata.annotations?.[REVISION] ?? 0);
  const rev = Number(cur.metadata.annotations?.[REVISION] ?? 0);
  let seen = templateRevisions.get(cur.metadata.uid);
  if (!seen) templateRevisions.set(cur.metadata.uid, (seen = new Map()));
  if (oldRev && !seen.has(images(old))) seen.set(images(old), oldRev);
  if (rev > oldRev && oldRev > 0) {
    const previousRevisionOfTemplate = seen.get(images(cur));
    const rollback = previousRevisionOfTemplate !== undefined && previousRevisionOfTemplate < oldRev;
    out.push({
      type: rollback ? 'rollback' : 'deploy',
      title: rollback
        ? `deployment ${name} rolled back to ${imageList(cur)} (revision ${rev}, as revision ${previousRevisionOfTemplate})`
        : `deployment ${name} rolled out revision ${rev}: ${imageList(old)} -> ${imageList(cur)}`,
      resource,
      attributes: { 'k8s.deployment.revision': rev, 'k8s.deployment.previous_revision': oldRev, 'container.image.names': imageList(cur) },
      severity: rollback ? 'warning' : 'info',
    });
  }
  seen.set(images(cur), rev);
  const oldReplicas = old.spec?.replicas;
  const replicas = cur.spec?.replicas;
  if (typeof oldReplicas === 'number' && typeof replicas === 'number' && oldReplicas !== replicas) {
    out.push({ type: 'scale', title: `deployment ${name} scaled ${oldReplicas} -> ${replicas}`, resource, attributes: { 'k8s.replicas.previous': oldReplicas, 'k8s.replicas.desired': replicas }, severity: 'info' });
  }
  const oldProgress = condition(old, 'Progressing');
  const progress = condition(cur, 'Progressing');
  if (progress?.status === 'False' && progress.reason === 'ProgressDeadlineExceeded' && !(oldProgress?.status === 'False' && oldProgress.reason === 'ProgressDeadlineExceeded')) {
    out.push({ type: 'deploy.stalled', title: `deployment ${name} rollout of revision ${rev} stalled: ${progress.message ?? 'progress deadline exceeded'}`, resource, attributes: { 'k8s.deployment.revision': rev }, severity: 'warning' });
  }
  if (progress?.reason === 'NewReplicaSetAvailable' && oldProgress?.reason !== 'NewReplicaSetAvailable' && rev > 0) {
    out.push({ type: 'deploy.complete', title: `deployment ${name} revision ${rev} is available`, resource, attributes: { 'k8s.deployment.revision': rev }, severity: 'info' });
  }
  return out;
}

/** Scaling of StatefulSets (and any workload with spec.replicas) other than Deployments. */
export function replicaChanges(kind: string, key: string, old: KubeObject, cur: KubeObject): Draft[] {
  const a = old.spec?.replicas;
  const b = cur.spec?.replicas;
  if (typeof a !== 'number' || typeof b !== 'number' || a === b) return [];
  return [{ type: 'scale', title: `${kind.toLowerCase()} ${cur.metadata.namespace}/${cur.metadata.name} scaled ${a} -> ${b}`, resource: workloadResource(cur, key), attributes: { 'k8s.replicas.previous': a, 'k8s.replicas.desired': b }, severity: 'info' }];
}

/** Container restarts with their reason (OOMKilled, CrashLoopBackOff, image pull failures) and evictions. */
export function podChanges(old: KubeObject, cur: KubeObject, resource: Attributes): Draft[] {
  const out: Draft[] = [];
  const name = `${cur.metadata.namespace}/${cur.metadata.name}`;
  const before = new Map(podContainers(old).map((c) => [c.name, c.status]));
  for (const c of podContainers(cur)) {
    const prev = before.get(c.name);
    const res = { ...resource, 'k8s.container.name': c.name, ...(c.id ? { 'container.id': c.id } : {}) };
    const restarts = Number(c.status?.restartCount ?? 0);
    const prevRestarts = Number(prev?.restartCount ?? 0);
    const terminated = c.status?.lastState?.terminated;
    if (restarts > prevRestarts && terminated?.reason === 'OOMKilled') {
      out.push({ type: 'container.oom', title: `container ${c.name} of pod ${name} was OOM-killed (restart ${restarts})`, resource: res, attributes: { 'k8s.container.restart_count': restarts, 'k8s.container.exit_code': Number(terminated.exitCode ?? 137) }, severity: 'warning' });
    }
    const waiting = c.status?.state?.waiting?.reason;
    const prevWaiting = prev?.state?.waiting?.reason;
    if (waiting && waiting !== prevWaiting && ['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'CreateContainerConfigError', 'RunContainerError'].includes(waiting)) {
      out.push({
        type: waiting === 'CrashLoopBackOff' ? 'container.crash-loop' : 'container.failed-start',
        title: `container ${c.name} of pod ${name} is in ${waiting}${terminated?.reason ? ` (last exit: ${terminated.reason}, code ${terminated.exitCode})` : ''}`,
        resource: res,
        attributes: { 'k8s.container.waiting_reason': waiting, 'k8s.container.restart_count': restarts },
        severity: 'warning',
      });
    }
  }
  if (cur.status?.reason === 'Evicted' && old.status?.reason !== 'Evicted') {
    out.push({ type: 'pod.evicted', title: `pod ${name} was evicted: ${cur.status?.message ?? ''}`.trim(), resource, severity: 'warning' });
  }
  return out;
}

export function nodeChanges(old: KubeObject, cur: KubeObject): Draft[] {
  const a = condition(old, 'Ready')?.status;
  const b = condition(cur, 'Ready')?.status;
  if (a === b || b === undefined) return [];
  const resource = { 'k8s.node.name': cur.metadata.name, 'host.name': cur.metadata.name };
  const reason = condition(cur, 'Ready')?.reason;
  if (b === 'True') return [{ type: 'node.ready', title: `node ${cur.metadata.name} is Ready again`, resource, severity: 'info' }];
  return [{ type: 'node.not-ready', title: `node ${cur.metadata.name} is NotReady (${b}${reason ? `, ${reason}` : ''})`, resource, attributes: { 'k8s.node.condition.status': String(b) }, severity: 'critical' }];
}

export function jobChanges(old: KubeObject, cur: KubeObject): Draft[] {
  const failed = condition(cur, 'Failed');
  if (failed?.status !== 'True' || condition(old, 'Failed')?.status === 'True') return [];
  return [{ type: 'job.failed', title: `job ${cur.metadata.namespace}/${cur.metadata.name} failed: ${failed.reason ?? ''}${failed.message ? ` (${failed.message})` : ''}`, resource: workloadResource(cur, 'k8s.job.name'), severity: 'warning' }];
}
