/**
 * The collector factory, and the way to build on it: `createKubernetesCollectorFactory` with
 * extensions gives another plugin (OpenShift) the whole Kubernetes collector plus its own
 * resources, under its own factory type, without copying code.
 */
import { createCollectorFactory, type CollectorFactory } from '@sextant/plugin-api';
import { kubernetesConfigSchema, kubernetesDefaults, type KubernetesConfig } from './config.js';
import type { KubernetesExtension } from './extension.js';
import { KubernetesCollector } from './kubernetes-collector.js';

export interface KubernetesFactoryOptions {
  /** Factory type (kebab-case): `kubernetes`, `openshift`. */
  readonly type?: string;
  readonly description?: string;
  readonly extensions?: readonly KubernetesExtension[];
}

export function createKubernetesCollectorFactory(options: KubernetesFactoryOptions = {}): CollectorFactory<KubernetesConfig> {
  const extensions = options.extensions ?? [];
  return createCollectorFactory<KubernetesConfig>({
    type: options.type ?? 'kubernetes',
    stability: 'alpha',
    description:
      options.description ??
      'Kubernetes: informers over nodes, pods and workloads; kubelet usage; k8s.* metrics; topology; rollouts, OOM kills, crash loops and NotReady nodes as change events; Lease leader election for cluster-level state',
    configSchema: kubernetesConfigSchema,
    defaults: kubernetesDefaults,
    create: (ctx) => new KubernetesCollector(ctx, extensions),
  });
}

export const kubernetesCollectorFactory = createKubernetesCollectorFactory();
