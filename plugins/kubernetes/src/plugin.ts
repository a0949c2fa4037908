import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { kubernetesCollectorFactory } from '@sextant/kubernetes-kit';

/** The `kubernetes` plugin: one collector factory, `kubernetes`. */
export const plugin = createPlugin({
  pluginId: 'kubernetes',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(kubernetesCollectorFactory);
  },
});

export default plugin;
