/**
 * @sextant/plugin-kubernetes — the `kubernetes` collector. The collector itself, and the contract
 * to build on it (`createKubernetesCollectorFactory` + `KubernetesExtension`), come from
 * @sextant/kubernetes-kit and are re-exported here.
 */
export { plugin, default } from './plugin.js';
export { kubernetesCollectorFactory, createKubernetesCollectorFactory, KubernetesCollector, kubernetesConfigSchema, kubernetesDefaults, KUBERNETES_METRICS } from '@sextant/kubernetes-kit';
export type { KubernetesConfig, KubernetesExtension, ExtensionContext, ExtensionResource, KubeObject, KubernetesFactoryOptions } from '@sextant/kubernetes-kit';
