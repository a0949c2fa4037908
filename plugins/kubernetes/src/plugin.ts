import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { createKubernetesCollectorFactory, kubernetesCollectorService, type KubernetesExtension } from '@sextant/kubernetes-kit';

/**
 * The `kubernetes` plugin: one collector factory, `kubernetes`, and the `kubernetes-collector`
 * service through which other plugins (OpenShift) extend that collector or build their own on it.
 */
export const plugin = createPlugin({
  pluginId: 'kubernetes',
  deps: { collectors: collectorsExtensionPoint },
  provides: { kubernetes: kubernetesCollectorService },
  register({ collectors }) {
    // Filled by dependent plugins during registration, read when instances are created (after it).
    const extensions: KubernetesExtension[] = [];
    collectors.addFactory(createKubernetesCollectorFactory({ extensions }));
    return {
      kubernetes: {
        addExtension: (extension: KubernetesExtension) => void extensions.push(extension),
        createFactory: createKubernetesCollectorFactory,
      },
    };
  },
});

export default plugin;
