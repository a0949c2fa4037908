/**
 * @sextant/kube-standin — a test-only stand-in for the Kubernetes and OpenShift API servers.
 * Not a cluster: objects change only when a test (through the scenario API) or a client says so.
 */
export { startKubeStandin } from './kube-standin.js';
export type { KubeStandin } from './kube-standin.js';
export { KubeApiServer, mergePatch } from './api-server.js';
export type { ApiServerOptions, StandinMode, SummaryProvider, RequestRecord } from './api-server.js';
export { ClusterScenario } from './cluster-scenario.js';
export type { ContainerSpecInput, WorkloadInput, ContainerUsage } from './cluster-scenario.js';
export { OpenShiftScenario } from './openshift-scenario.js';
export { ObjectStore } from './object-store.js';
export type { KubeObject, ObjectMeta, Change, WatchEventType } from './object-store.js';
export { CLUSTER_ADMIN, allowed, forbidden } from './rbac.js';
export type { PolicyRule, Identity, AccessRequest } from './rbac.js';
export { RESOURCE_TYPES } from './resources.js';
export type { ResourceType } from './resources.js';
export type { ApiStatus } from './api-status.js';
