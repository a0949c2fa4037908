/**
 * The shipped deploy/ manifests: `kubectl apply` accepts them, and the ClusterRole + Role they
 * define are exactly what the agent needs — with a token limited to those rules the agent runs
 * with no 403, and every rule is used by it.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FakeClock, needBinary } from '@sextant/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAgent, startKubeStandin, tempDir, until, type KubeStandin } from './fixture.js';

const run = promisify(execFile);
const deploy = (file: string) => fileURLToPath(new URL(`../deploy/${file}`, import.meta.url));
let k: KubeStandin;
const dir = tempDir();

beforeAll(async () => {
  k = await startKubeStandin();
  k.cluster.addNode('node-1');
  k.cluster.createDeployment({ name: 'web', replicas: 2, image: 'nginx:1.25' });
});
afterAll(async () => {
  await k?.stop();
  dir.remove();
});

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };

it('kubectl applies the DaemonSet and RBAC; the agent runs on exactly those rules', async (ctx) => {
  const kubectl = needBinary(ctx, 'kubectl', 'install kubectl (https://kubernetes.io/docs/tasks/tools/); Debian ships it as kubernetes-client');
  const env = { ...process.env, KUBECONFIG: k.writeKubeconfig(join(dir.path, 'admin')) };
  const out = await run(kubectl, ['apply', '-f', deploy('rbac.yaml'), '-f', deploy('daemonset.yaml')], { env });
  expect(out.stdout).toContain('clusterrole.rbac.authorization.k8s.io/sextant-agent created');
  expect(out.stdout).toContain('daemonset.apps/sextant-agent created');
  expect((await run(kubectl, ['apply', '-f', deploy('daemonset.yaml')], { env })).stdout).toContain('daemonset.apps/sextant-agent unchanged');
  const ds = JSON.parse((await run(kubectl, ['get', 'daemonset', 'sextant-agent', '-n', 'sextant', '-o', 'json'], { env })).stdout);
  expect(ds.spec.template.spec.serviceAccountName).toBe('sextant-agent');

  const clusterRole = k.api.store.get('rbac.authorization.k8s.io/clusterroles', undefined, 'sextant-agent')!;
  const role = k.api.store.get('rbac.authorization.k8s.io/roles', 'sextant', 'sextant-leader-election')!;
  const rules = [...(clusterRole.rules as Rule[]), ...(role.rules as Rule[])];
  const token = k.issueToken('system:serviceaccount:sextant:sextant-agent', rules);
  const from = k.api.requests.length;
  const agent = await startAgent({ kubeconfig: k.writeKubeconfig(join(dir.path, 'sa'), token), clock: new FakeClock(Date.now()), config: { nodeName: 'node-1', leaderElection: { enabled: true, namespace: 'sextant', leaseName: 'sextant-cluster-state', identity: 'sextant-agent-x' } } });
  try {
    await until(() => agent.collector.isLeader && agent.collector.synced, 'leader, synced');
    await agent.collect();
    await agent.collect();
    expect(agent.status()).toMatchObject({ state: 'ok' });
    const requests = k.api.requests.slice(from);
    expect(requests.filter((r) => r.status === 403)).toEqual([]);
    // Every rule grants something the agent used.
    const used = new Set(requests.map((r) => accessOf(r.method, r.path, r.query)).filter(Boolean));
    for (const rule of rules) for (const g of rule.apiGroups) for (const res of rule.resources) for (const verb of rule.verbs) expect(used, `${verb} ${g}/${res} is granted but unused`).toContain(`${verb} ${g}/${res}`);
  } finally {
    await agent.stop();
  }
});

/** `list apps/deployments`, `get /nodes/proxy`, `update coordination.k8s.io/leases` for one request. */
function accessOf(method: string, path: string, query: Record<string, string>): string | undefined {
  const m = path.match(/^\/api\/v1\/(.*)$/) ?? path.match(/^\/apis\/([^/]+)\/[^/]+\/(.*)$/);
  if (!m) return undefined;
  const group = m.length === 3 ? m[1]! : '';
  let segs = (m.length === 3 ? m[2]! : m[1]!).split('/');
  if (segs[0] === 'namespaces' && segs.length >= 3) segs = segs.slice(2);
  const [plural, name, sub] = segs;
  const resource = sub ? `${plural}/${sub}` : plural;
  const verb = method === 'GET' ? (name ? 'get' : query.watch ? 'watch' : 'list') : method === 'POST' ? 'create' : method === 'PUT' ? 'update' : method.toLowerCase();
  return `${verb} ${group}/${resource}`;
}
