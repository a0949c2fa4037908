/**
 * The OpenShift extension of the Kubernetes collector: turns on when API discovery shows the
 * OpenShift groups, and adds DeploymentConfigs (desired/available, rollouts and failed rollouts as
 * change events, their pods as one peer group), Routes (host -> service in the topology), Builds
 * (failed builds as events), ImageStreams (new images on a tag as events), Projects and
 * ClusterResourceQuotas.
 */
import type { Attributes, SextantEvent } from '@sextant/plugin-api';
import { parseQuantity, type ExtensionContext, type ExtensionResource, type KubeObject, type KubernetesExtension } from '@sextant/kubernetes-kit';

const res = (group: string, plural: string, kind: string): ExtensionResource => ({ group, version: 'v1', plural, kind, scope: 'cluster' });

export const OPENSHIFT_RESOURCES = {
  deploymentconfigs: res('apps.openshift.io', 'deploymentconfigs', 'DeploymentConfig'),
  routes: res('route.openshift.io', 'routes', 'Route'),
  builds: res('build.openshift.io', 'builds', 'Build'),
  buildconfigs: res('build.openshift.io', 'buildconfigs', 'BuildConfig'),
  imagestreams: res('image.openshift.io', 'imagestreams', 'ImageStream'),
  projects: res('project.openshift.io', 'projects', 'Project'),
  clusterresourcequotas: res('quota.openshift.io', 'clusterresourcequotas', 'ClusterResourceQuota'),
} as const;

const DC_ANNOTATION = 'openshift.io/deployment-config.name';

function images(dc: KubeObject | undefined): string {
  const cs: any[] = dc?.spec?.template?.spec?.containers ?? [];
  return cs.map((c) => String(c?.image)).join(', ');
}

function condition(o: KubeObject | undefined, type: string): any {
  const list: any[] = Array.isArray(o?.status?.conditions) ? o!.status.conditions : [];
  return list.find((c) => c?.type === type);
}

function event(ctx: ExtensionContext, e: Omit<SextantEvent, 'timestamp' | 'source'>): void {
  ctx.sink.event({ ...e, timestamp: ctx.now(), source: 'openshift' });
}

const dcResource = (dc: KubeObject): Attributes => ({ 'k8s.namespace.name': dc.metadata.namespace ?? '', 'openshift.deploymentconfig.name': dc.metadata.name, 'service.name': dc.metadata.name });

function deploymentConfigChanged(dc: KubeObject, old: KubeObject, ctx: ExtensionContext): void {
  const name = `${dc.metadata.namespace}/${dc.metadata.name}`;
  const a = Number(old.status?.latestVersion ?? 0);
  const b = Number(dc.status?.latestVersion ?? 0);
  if (b > a && a > 0) {
    event(ctx, { type: 'deploy', title: `deploymentconfig ${name} rolled out #${b} (${images(dc)})`, resource: dcResource(dc), attributes: { 'openshift.deploymentconfig.version': b, 'container.image.names': images(dc) }, severity: 'info' });
  }
  const was = condition(old, 'Progressing');
  const now = condition(dc, 'Progressing');
  if (now?.status === 'False' && was?.status !== 'False') {
    event(ctx, { type: 'deploy.failed', title: `deploymentconfig ${name} rollout #${b} failed: ${now.message ?? now.reason ?? 'not progressing'}`, resource: dcResource(dc), attributes: { 'openshift.deploymentconfig.version': b }, severity: 'warning' });
  }
  const r0 = old.spec?.replicas;
  const r1 = dc.spec?.replicas;
  if (typeof r0 === 'number' && typeof r1 === 'number' && r0 !== r1) {
    event(ctx, { type: 'scale', title: `deploymentconfig ${name} scaled ${r0} -> ${r1}`, resource: dcResource(dc), severity: 'info' });
  }
}

function buildChanged(build: KubeObject, old: KubeObject | undefined, ctx: ExtensionContext): void {
  const phase = build.status?.phase;
  if (phase === old?.status?.phase) return;
  const config = build.metadata.annotations?.['openshift.io/build-config.name'] ?? build.metadata.labels?.buildconfig ?? '';
  const resource = { 'k8s.namespace.name': build.metadata.namespace ?? '', 'openshift.build.name': build.metadata.name, ...(config ? { 'openshift.buildconfig.name': config } : {}) };
  if (phase === 'Failed' || phase === 'Error') {
    event(ctx, { type: 'build.failed', title: `build ${build.metadata.namespace}/${build.metadata.name} ${phase.toLowerCase()}: ${build.status?.reason ?? ''}${build.status?.message ? ` (${build.status.message})` : ''}`, resource, attributes: { 'openshift.build.reason': String(build.status?.reason ?? '') }, severity: 'warning' });
  } else if (phase === 'Complete') {
    event(ctx, { type: 'build.complete', title: `build ${build.metadata.namespace}/${build.metadata.name} complete`, resource, severity: 'info' });
  }
}

function imageStreamChanged(is: KubeObject, old: KubeObject | undefined, ctx: ExtensionContext): void {
  const heads = (o: KubeObject | undefined) => new Map<string, string>(((o?.status?.tags ?? []) as any[]).filter((t) => t?.tag).map((t) => [String(t.tag), String(t.items?.[0]?.image ?? '')]));
  const before = heads(old);
  for (const [tag, image] of heads(is)) {
    if (!image || before.get(tag) === image) continue;
    event(ctx, {
      type: 'image.tag',
      title: `imagestream ${is.metadata.namespace}/${is.metadata.name}:${tag} now points to ${image}`,
      resource: { 'k8s.namespace.name': is.metadata.namespace ?? '', 'openshift.imagestream.name': is.metadata.name },
      attributes: { 'openshift.imagestream.tag': tag, 'container.image.id': image },
      severity: 'info',
    });
  }
}

export const openshiftExtension: KubernetesExtension = {
  id: 'openshift',
  requiredGroups: [...new Set(Object.values(OPENSHIFT_RESOURCES).map((r) => r.group))],
  resources: Object.values(OPENSHIFT_RESOURCES),

  podAttributes(pod): Attributes {
    const dc = pod.metadata.annotations?.[DC_ANNOTATION];
    return dc ? { 'openshift.deploymentconfig.name': dc, 'service.name': pod.metadata.labels?.['app.kubernetes.io/name'] ?? dc } : {};
  },

  podWorkload(pod) {
    const dc = pod.metadata.annotations?.[DC_ANNOTATION];
    return dc ? { kind: 'DeploymentConfig', name: dc } : undefined;
  },

  onChange(ref, change, cur, old, ctx) {
    if (change === 'deleted') return;
    if (ref.plural === 'deploymentconfigs' && old) deploymentConfigChanged(cur, old, ctx);
    else if (ref.plural === 'builds') buildChanged(cur, old, ctx);
    else if (ref.plural === 'imagestreams' && change === 'updated') imageStreamChanged(cur, old, ctx);
  },

  collect(ctx) {
    for (const dc of ctx.objects(OPENSHIFT_RESOURCES.deploymentconfigs)) {
      const r = dcResource(dc);
      ctx.gauge('openshift.deploymentconfig.desired', '{pod}', r, Number(dc.spec?.replicas ?? 0), {}, 'Replicas the DeploymentConfig wants');
      ctx.gauge('openshift.deploymentconfig.available', '{pod}', r, Number(dc.status?.availableReplicas ?? 0), {}, 'Available replicas of the DeploymentConfig');
      ctx.sink.topology({ upsertEntities: [{ id: `k8s.deploymentconfig:${dc.metadata.namespace}/${dc.metadata.name}`, type: 'k8s.deploymentconfig', name: `${dc.metadata.namespace}/${dc.metadata.name}`, attributes: r }] });
    }
    for (const q of ctx.objects(OPENSHIFT_RESOURCES.clusterresourcequotas)) {
      const r = { 'openshift.clusterquota.name': q.metadata.name, 'openshift.clusterquota.uid': q.metadata.uid };
      for (const [k, v] of Object.entries((q.status?.total?.hard ?? {}) as Record<string, unknown>)) ctx.gauge('openshift.clusterquota.limit', '{resource}', r, parseQuantity(v), { resource: k }, 'Hard limit of the cluster resource quota, by resource');
      for (const [k, v] of Object.entries((q.status?.total?.used ?? {}) as Record<string, unknown>)) ctx.gauge('openshift.clusterquota.used', '{resource}', r, parseQuantity(v), { resource: k }, 'Usage counted against the cluster resource quota, by resource');
    }
    const entities = [];
    const edges = [];
    for (const route of ctx.objects(OPENSHIFT_RESOURCES.routes)) {
      const host = route.spec?.host;
      const to = route.spec?.to;
      if (typeof host !== 'string' || !host) continue;
      const id = `route:${route.metadata.namespace}/${route.metadata.name}`;
      entities.push({ id, type: 'route', name: host, attributes: { 'k8s.namespace.name': route.metadata.namespace ?? '', 'openshift.route.name': route.metadata.name, 'url.domain': host } });
      if (to?.kind === 'Service' && typeof to.name === 'string') edges.push({ from: id, to: `service:${route.metadata.namespace}/${to.name}`, type: 'routes-to' });
    }
    if (entities.length) ctx.sink.topology({ upsertEntities: entities, upsertEdges: edges });
  },
};
