/**
 * Bearer-token authentication and an RBAC allow-list, enough to produce the API server's exact
 * 401 and 403 answers. A token maps to a user and its PolicyRules (apiGroups, resources, verbs,
 * optional resourceNames); `*` matches anything. Subresources are named `pods/status`,
 * `nodes/proxy`, as in a ClusterRole.
 */
import { failure, qualifiedResource, type ApiStatus } from './api-status.js';

export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

export interface Identity {
  /** `system:serviceaccount:sextant:sextant-agent` */
  readonly user: string;
  readonly rules: readonly PolicyRule[];
}

/** Every verb on everything: what `cluster-admin` grants. */
export const CLUSTER_ADMIN: readonly PolicyRule[] = [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }];

export interface AccessRequest {
  readonly verb: string;
  readonly group: string;
  /** Plural, with `/subresource` when one is addressed. */
  readonly resource: string;
  readonly namespace?: string;
  readonly name?: string;
}

const has = (list: readonly string[], value: string) => list.includes('*') || list.includes(value);

export function allowed(identity: Identity, req: AccessRequest): boolean {
  return identity.rules.some(
    (r) =>
      has(r.verbs, req.verb) &&
      has(r.apiGroups, req.group) &&
      has(r.resources, req.resource) &&
      (!r.resourceNames || r.resourceNames.length === 0 || (req.name !== undefined && r.resourceNames.includes(req.name))),
  );
}

/** The 403 the API server answers, naming the user, verb, resource, group and scope. */
export function forbidden(user: string, req: AccessRequest): ApiStatus {
  const [plural, sub] = req.resource.split('/');
  const subject = req.name ? `${qualifiedResource(plural!, req.group)} "${req.name}"` : qualifiedResource(plural!, req.group);
  const scope = req.namespace ? `in the namespace "${req.namespace}"` : 'at the cluster scope';
  return failure(403, 'Forbidden', `${subject} is forbidden: User "${user}" cannot ${req.verb} resource "${plural}${sub ? `/${sub}` : ''}" in API group "${req.group}" ${scope}`, {
    ...(req.name ? { name: req.name } : {}),
    ...(req.group ? { group: req.group } : {}),
    kind: plural,
  });
}
