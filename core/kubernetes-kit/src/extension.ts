/**
 * The contract other plugins use to build on the Kubernetes collector (the OpenShift plugin is the
 * first): an extension names extra API group versions, gets its own informers over them once API
 * discovery shows they are served, and reports through the same sink, topology and leader
 * election as the collector. Extensions never open their own connection.
 *
 * Stability: alpha. The interface only grows; a breaking change is a new `KubernetesExtensionV2`.
 */
import type { Attributes, Logger, TelemetrySink } from '@sextant/plugin-api';
import type { KubeObject, ResourceRef } from './resource-informer.js';

/** What an extension watches: one resource of an API group version. */
export interface ExtensionResource extends ResourceRef {
  readonly kind: string;
  /** Cluster-level state (reported by the leader only) or per-node (every agent for its pods). */
  readonly scope: 'cluster';
}

/** What the collector hands an extension. */
export interface ExtensionContext {
  readonly sink: TelemetrySink;
  readonly logger: Logger;
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Objects of one of the extension's resources, as currently cached. */
  objects(ref: ResourceRef): Iterable<KubeObject>;
  /** Resource attributes every series of this collector carries (cluster name). */
  readonly baseResource: Attributes;
  /** Writes a gauge (the collector caches series ids). */
  gauge(metric: string, unit: string, resource: Attributes, value: number, attributes?: Attributes, description?: string): void;
}

export interface KubernetesExtension {
  /** Kebab-case id, for logs and status messages: `openshift`. */
  readonly id: string;
  /**
   * API groups that must all be served for the extension to turn on (`apps.openshift.io`). Checked
   * against `GET /apis` at start and after every reconnect.
   */
  readonly requiredGroups: readonly string[];
  readonly resources: readonly ExtensionResource[];
  /** Extra resource attributes for a pod (e.g. `openshift.deploymentconfig.name`). */
  podAttributes?(pod: KubeObject): Attributes;
  /**
   * The workload a pod belongs to when the extension knows better than the owner chain (a pod of
   * a DeploymentConfig is owned by a ReplicationController per rollout): its pods form one peer group.
   */
  podWorkload?(pod: KubeObject): { kind: string; name: string } | undefined;
  /** An object of one of `resources` was added, changed or deleted (after the first sync only). */
  onChange?(ref: ExtensionResource, change: 'added' | 'updated' | 'deleted', cur: KubeObject, old: KubeObject | undefined, ctx: ExtensionContext): void;
  /** Every collection round, while leading: write metrics and topology. */
  collect?(ctx: ExtensionContext): void;
}
