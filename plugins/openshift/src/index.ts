/** @sextant/plugin-openshift — the `openshift` collector (Kubernetes collector + OpenShift extension). */
export { plugin, default } from './plugin.js';
export { openshiftExtension, OPENSHIFT_RESOURCES } from './openshift-extension.js';
