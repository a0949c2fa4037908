import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { kubernetesCollectorService } from '@sextant/kubernetes-kit';
import { openshiftExtension } from './openshift-extension.js';

const description =
  'OpenShift: everything the kubernetes collector reports, plus DeploymentConfigs, Routes, Builds, ImageStreams, Projects and ClusterResourceQuotas (on when API discovery shows the OpenShift groups)';

/**
 * The `openshift` collector: the Kubernetes collector (same configuration) with the OpenShift
 * extension, made by the `kubernetes` plugin's `kubernetes-collector` service, so this plugin
 * needs @sextant/plugin-kubernetes loaded beside it. Configure it instead of `kubernetes` on
 * OpenShift clusters.
 */
export const plugin = createPlugin({
  pluginId: 'openshift',
  deps: { collectors: collectorsExtensionPoint, kubernetes: kubernetesCollectorService },
  register({ collectors, kubernetes }) {
    collectors.addFactory(kubernetes.createFactory({ type: 'openshift', description, extensions: [openshiftExtension] }));
  },
});

export default plugin;
