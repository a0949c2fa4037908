/**
 * @sextant/plugin-kubernetes — the Kubernetes collector, and the contract to build on it
 * (`createKubernetesCollectorFactory` + `KubernetesExtension`).
 */
export { plugin, default } from './plugin.js';
export { kubernetesCollectorFactory, createKubernetesCollectorFactory } from './kubernetes-factory.js';
export type { KubernetesFactoryOptions } from './kubernetes-factory.js';
export type { KubernetesExtension, ExtensionContext, ExtensionResource } from './extension.js';
export type { KubeObject, ResourceRef } from './resource-informer.js';
export { KubernetesCollector } from './kubernetes-collector.js';
export { kubernetesConfigSchema, kubernetesDefaults } from './config.js';
export type { KubernetesConfig } from './config.js';
export { parseQuantity, podOwners, workloadEntityId } from './kube-objects.js';
export { M as KUBERNETES_METRICS } from './metrics.js';
