#!/usr/bin/env node
/**
 * `kube-standin [--mode kubernetes|openshift] [--port N] [--kubeconfig FILE] [--demo]`: runs the
 * stand-in until interrupted. `--demo` seeds two nodes, a deployment with a service, and (in
 * OpenShift mode) a DeploymentConfig with a route. Prints one JSON line with the URL and token.
 */
import { startKubeStandin } from './kube-standin.js';

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const mode = opt('--mode') === 'openshift' ? 'openshift' : 'kubernetes';
const standin = await startKubeStandin({ mode, port: Number(opt('--port') ?? 0) });
if (args.includes('--demo')) {
  standin.cluster.addNode('node-1');
  standin.cluster.addNode('node-2');
  standin.cluster.createDeployment({ name: 'web', replicas: 3, image: 'nginx:1.25' });
  standin.cluster.createService('default', 'web', { app: 'web' });
  if (standin.openshift) {
    standin.openshift.project('shop');
    standin.openshift.createDeploymentConfig('shop', 'frontend', 2, 'frontend:1');
    standin.openshift.createRoute('shop', 'frontend', 'shop.apps.example.com', 'frontend');
  }
}
const kubeconfig = opt('--kubeconfig');
if (kubeconfig) standin.writeKubeconfig(kubeconfig);
process.stdout.write(`${JSON.stringify({ url: standin.url, token: standin.adminToken, mode, ...(kubeconfig ? { kubeconfig } : {}) })}\n`);
const stop = () => void standin.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
