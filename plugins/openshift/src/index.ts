/** @sextant/plugin-openshift — the `openshift` collector (Kubernetes collector + OpenShift extension). */
export { plugin, default, openshiftCollectorFactory } from './plugin.js';
export { openshiftExtension, OPENSHIFT_RESOURCES } from './openshift-extension.js';
