/**
 * @sextant/kubernetes-kit — the Kubernetes collector as a library, shared by
 * @sextant/plugin-kubernetes (which registers it as the `kubernetes` collector) and
 * @sextant/plugin-openshift (which adds its resources through `KubernetesExtension`, by way of the
 * `kubernetesCollectorService` the kubernetes plugin provides).
 * Components may depend on kit packages, not on each other; this is why the collector lives here.
 */
export { kubernetesCollectorFactory, createKubernetesCollectorFactory } from './kubernetes-factory.js';
export type { KubernetesFactoryOptions } from './kubernetes-factory.js';
export type { KubernetesExtension, ExtensionContext, ExtensionResource } from './extension.js';
export { kubernetesCollectorService } from './collector-service.js';
export type { KubernetesCollectorService } from './collector-service.js';
export type { KubeObject, ResourceRef, InformerStats } from './resource-informer.js';
export { KubernetesCollector } from './kubernetes-collector.js';
export { kubernetesConfigSchema, kubernetesDefaults } from './config.js';
export type { KubernetesConfig } from './config.js';
export { parseQuantity, podOwners, workloadEntityId, imageName } from './kube-objects.js';
export { M as KUBERNETES_METRICS } from './metrics.js';
export type { MetricSpec } from './series-cache.js';
