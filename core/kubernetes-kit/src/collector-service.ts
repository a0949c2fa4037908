/**
 * The service the `kubernetes` plugin provides to other plugins (a plugin-api service ref): the
 * way to build on the Kubernetes collector without depending on another plugin's package code.
 * The OpenShift plugin depends on it and registers the `openshift` collector through it.
 *
 * ```ts
 * createPlugin({
 *   pluginId: 'openshift',
 *   deps: { collectors: collectorsExtensionPoint, kubernetes: kubernetesCollectorService },
 *   register({ collectors, kubernetes }) {
 *     collectors.addFactory(kubernetes.createFactory({ type: 'openshift', extensions: [openshiftExtension] }));
 *   },
 * });
 * ```
 *
 * Stability: alpha. The interface only grows; a breaking change is a new ref version.
 */
import { createServiceRef, type CollectorFactory } from '@sextant/plugin-api';
import type { KubernetesConfig } from './config.js';
import type { KubernetesExtension } from './extension.js';
import type { KubernetesFactoryOptions } from './kubernetes-factory.js';

export interface KubernetesCollectorService {
  /**
   * Adds an extension to this runtime's `kubernetes` collector: every instance created after
   * plugin registration runs it (it turns on when API discovery shows its groups).
   */
  addExtension(extension: KubernetesExtension): void;
  /** A collector factory of its own type: the Kubernetes collector (same configuration) with `extensions`. */
  createFactory(options: KubernetesFactoryOptions): CollectorFactory<KubernetesConfig>;
}

export const kubernetesCollectorService = createServiceRef<KubernetesCollectorService>({ id: 'kubernetes-collector' });
