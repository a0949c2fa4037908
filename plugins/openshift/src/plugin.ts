import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { createKubernetesCollectorFactory } from '@sextant/kubernetes-kit';
import { openshiftExtension } from './openshift-extension.js';

/**
 * The `openshift` collector: the Kubernetes collector (same configuration) with the OpenShift
 * extension. Configure it instead of `kubernetes` on OpenShift clusters.
 */
export const openshiftCollectorFactory = createKubernetesCollectorFactory({
  type: 'openshift',
  description: 'OpenShift: everything the kubernetes collector reports, plus DeploymentConfigs, Routes, Builds, ImageStreams, Projects and ClusterResourceQuotas (on when API discovery shows the OpenShift groups)',
  extensions: [openshiftExtension],
});

export const plugin = createPlugin({
  pluginId: 'openshift',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(openshiftCollectorFactory);
  },
});

export default plugin;
