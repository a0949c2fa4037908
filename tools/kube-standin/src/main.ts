#!/usr/bin/env node
/**
 * `kube-standin [--mode kubernetes|openshift] [--port N] [--kubeconfig FILE] [--demo]`: runs the
 * stand-in until interrupted. `--demo` seeds two nodes, a deployment with a service, and (in
 * OpenShift mode) a DeploymentConfig with a route. `--seed-nodes N --seed-pods M` builds a large
 * cluster (deployments of 10 replicas spread over the nodes) and `--churn R` then changes R pods a
 * second (one MODIFIED pod event each), for benchmarks. Prints one JSON line with the URL and token.
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
const seedNodes = Number(opt('--seed-nodes') ?? 0);
const seedPods = Number(opt('--seed-pods') ?? 0);
for (let i = 0; i < seedNodes; i++) standin.cluster.addNode(`node-${i}`);
for (let d = 0; d * 10 < seedPods; d++) standin.cluster.createDeployment({ name: `app-${d}`, replicas: Math.min(10, seedPods - d * 10), image: `app-${d}:1` });
const churn = Number(opt('--churn') ?? 0);
if (churn > 0) {
  const pods = standin.api.store.list('/pods').map((p) => [p.metadata.namespace, p.metadata.name] as const);
  let tick = 0;
  let credit = 0;
  // Changes arrive in 10 ms slices so the rate is smooth.
  setInterval(() => {
    credit += churn / 100;
    for (; credit >= 1; credit--) {
      const [ns, name] = pods[(tick * 7919) % pods.length]!;
      const pod = standin.api.store.get('/pods', ns, name);
      if (!pod) continue;
      pod.metadata.annotations = { ...pod.metadata.annotations, 'bench.sextant.io/tick': String(tick++) };
      standin.api.store.update('/pods', pod);
    }
  }, 10);
}
const kubeconfig = opt('--kubeconfig');
if (kubeconfig) standin.writeKubeconfig(kubeconfig);
process.stdout.write(`${JSON.stringify({ url: standin.url, token: standin.adminToken, mode, ...(kubeconfig ? { kubeconfig } : {}) })}\n`);
const stop = () => void standin.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
