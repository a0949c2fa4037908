/**
 * The resource types the stand-in serves, as the API server's discovery documents describe them
 * (APIResourceList entries: name, singularName, namespaced, kind, verbs, shortNames).
 */

export interface ResourceType {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Lower-case plural, the path segment: `pods`, `deployments`. */
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames?: readonly string[];
  /** Subresources served besides the object itself (`status`, `proxy`, `scale`). */
  readonly subresources?: readonly string[];
  /** Only served in OpenShift mode. */
  readonly openshift?: boolean;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const t = (group: string, version: string, kind: string, plural: string, namespaced: boolean, extra: Partial<ResourceType> = {}): ResourceType => ({
  group,
  version,
  kind,
  plural,
  singular: kind.toLowerCase(),
  namespaced,
  ...extra,
});

export const RESOURCE_TYPES: readonly ResourceType[] = [
  t('', 'v1', 'Namespace', 'namespaces', false, { shortNames: ['ns'], subresources: ['status'] }),
  t('', 'v1', 'Node', 'nodes', false, { shortNames: ['no'], subresources: ['status', 'proxy'] }),
  t('', 'v1', 'Pod', 'pods', true, { shortNames: ['po'], subresources: ['status'] }),
  t('', 'v1', 'Service', 'services', true, { shortNames: ['svc'], subresources: ['status'] }),
  t('', 'v1', 'Event', 'events', true, { shortNames: ['ev'] }),
  t('', 'v1', 'ResourceQuota', 'resourcequotas', true, { shortNames: ['quota'], subresources: ['status'] }),
  t('', 'v1', 'ServiceAccount', 'serviceaccounts', true, { shortNames: ['sa'] }),
  t('', 'v1', 'ConfigMap', 'configmaps', true, { shortNames: ['cm'] }),
  t('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true),
  t('apps', 'v1', 'Deployment', 'deployments', true, { shortNames: ['deploy'], subresources: ['status', 'scale'] }),
  t('apps', 'v1', 'ReplicaSet', 'replicasets', true, { shortNames: ['rs'], subresources: ['status', 'scale'] }),
  t('apps', 'v1', 'StatefulSet', 'statefulsets', true, { shortNames: ['sts'], subresources: ['status', 'scale'] }),
  t('apps', 'v1', 'DaemonSet', 'daemonsets', true, { shortNames: ['ds'], subresources: ['status'] }),
  t('batch', 'v1', 'Job', 'jobs', true, { subresources: ['status'] }),
  t('batch', 'v1', 'CronJob', 'cronjobs', true, { shortNames: ['cj'], subresources: ['status'] }),
  t('coordination.k8s.io', 'v1', 'Lease', 'leases', true),
  t('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
  t('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  t('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
  t('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
  t('apps.openshift.io', 'v1', 'DeploymentConfig', 'deploymentconfigs', true, { shortNames: ['dc'], subresources: ['status', 'scale'], openshift: true }),
  t('route.openshift.io', 'v1', 'Route', 'routes', true, { subresources: ['status'], openshift: true }),
  t('build.openshift.io', 'v1', 'Build', 'builds', true, { subresources: ['details'], openshift: true }),
  t('build.openshift.io', 'v1', 'BuildConfig', 'buildconfigs', true, { shortNames: ['bc'], openshift: true }),
  t('image.openshift.io', 'v1', 'ImageStream', 'imagestreams', true, { shortNames: ['is'], subresources: ['status'], openshift: true }),
  t('project.openshift.io', 'v1', 'Project', 'projects', false, { openshift: true }),
  t('quota.openshift.io', 'v1', 'ClusterResourceQuota', 'clusterresourcequotas', false, { shortNames: ['clusterquota'], subresources: ['status'], openshift: true }),
];

export function apiVersionOf(r: ResourceType): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** The APIResourceList of one group version (`GET /api/v1`, `GET /apis/apps/v1`). */
export function apiResourceList(types: readonly ResourceType[], groupVersion: string): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const r of types.filter((x) => apiVersionOf(x) === groupVersion)) {
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: ALL_VERBS,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      storageVersionHash: Buffer.from(`${groupVersion}/${r.kind}`).toString('base64').slice(0, 11),
    });
    for (const sub of r.subresources ?? []) {
      const verbs = sub === 'proxy' ? ['create', 'delete', 'get', 'patch', 'update'] : ['get', 'patch', 'update'];
      resources.push({ name: `${r.plural}/${sub}`, singularName: '', namespaced: r.namespaced, kind: sub === 'scale' ? 'Scale' : sub === 'proxy' ? 'NodeProxyOptions' : r.kind, verbs });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

/** The APIGroupList of `GET /apis`. */
export function apiGroupList(types: readonly ResourceType[]): Record<string, unknown> {
  const groups = new Map<string, Set<string>>();
  for (const r of types) {
    if (!r.group) continue;
    const versions = groups.get(r.group) ?? new Set<string>();
    versions.add(r.version);
    groups.set(r.group, versions);
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => {
      const list = [...versions].map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
      return { name, versions: list, preferredVersion: list[0] };
    }),
  };
}
