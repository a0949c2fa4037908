/**
 * Faithfulness against real, unmodified clients: the installed `kubectl` (get, get -w, -o json,
 * patch) and @kubernetes/client-node informers (list + watch, updates, deletes, and the re-list a
 * 410 forces after compaction).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { needBinary } from '@sextant/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startKubeStandin, type KubeStandin } from '../src/index.js';

const run = promisify(execFile);
const KUBECTL_INSTALL = 'install kubectl (https://kubernetes.io/docs/tasks/tools/): Debian ships no package for it';
let standin: KubeStandin;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  standin = await startKubeStandin();
  standin.cluster.addNode('node-1');
  standin.cluster.createDeployment({ name: 'web', replicas: 2, image: 'nginx:1.25' });
  dir = mkdtempSync(join(tmpdir(), 'kube-standin-'));
  kubeconfig = standin.writeKubeconfig(join(dir, 'kubeconfig'));
});
afterAll(async () => {
  await standin?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl', () => {
  it('get prints the table and -o json the objects', async (ctx) => {
    const kubectl = needBinary(ctx, 'kubectl', KUBECTL_INSTALL);
    const env = { ...process.env, KUBECONFIG: kubeconfig };
    const table = await run(kubectl, ['get', 'deployments'], { env });
    expect(table.stdout).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+2\/2\s+2\s+2\s+\d+s\n$/);
    const json = JSON.parse((await run(kubectl, ['get', 'pods', '-o', 'json'], { env })).stdout);
    expect(json.kind).toBe('List');
    expect(json.items.map((p: any) => p.metadata.labels.app)).toEqual(['web', 'web']);
    const nodes = await run(kubectl, ['get', 'nodes', '-o', 'name'], { env });
    expect(nodes.stdout.trim()).toBe('node/node-1');
  });

  it('get -w receives an update made after it started', async (ctx) => {
    const kubectl = needBinary(ctx, 'kubectl', KUBECTL_INSTALL);
    const child = spawn(kubectl, ['get', 'deployments', '-w', '-o', 'custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas', '--no-headers'], { env: { ...process.env, KUBECONFIG: kubeconfig } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    try {
      await vi.waitFor(() => expect(out).toMatch(/web\s+2/), { timeout: 10_000 });
      standin.cluster.scaleDeployment('default', 'web', 4);
      await vi.waitFor(() => expect(out).toMatch(/web\s+4/), { timeout: 10_000 });
    } finally {
      child.kill();
    }
  });

  it('get -w prints the server-side table rows of pods as they change; scale goes through the scale subresource', async (ctx) => {
    const kubectl = needBinary(ctx, 'kubectl', KUBECTL_INSTALL);
    const env = { ...process.env, KUBECONFIG: kubeconfig };
    const child = spawn(kubectl, ['get', 'pods', '-w'], { env });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    try {
      await vi.waitFor(() => expect(out).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/));
      const victim = standin.api.store.list('/pods')[0]!.metadata.name;
      standin.cluster.crashLoop('default', victim);
      await vi.waitFor(() => expect(out).toMatch(new RegExp(`${victim}\\s+0/1\\s+CrashLoopBackOff\\s+1\\s+`)), { timeout: 10_000 });
    } finally {
      child.kill();
    }
    expect((await run(kubectl, ['scale', 'deployment', 'web', '--replicas=6'], { env })).stdout.trim()).toBe('deployment.apps/web scaled');
    expect((standin.api.store.get('apps/deployments', 'default', 'web')!.spec as { replicas: number }).replicas).toBe(6);
  });

  it('patch and annotate go through, and a forbidden token gets the API server message', async (ctx) => {
    const kubectl = needBinary(ctx, 'kubectl', KUBECTL_INSTALL);
    const env = { ...process.env, KUBECONFIG: kubeconfig };
    await run(kubectl, ['annotate', 'deployment', 'web', 'team=shop'], { env });
    expect(standin.api.store.get('apps/deployments', 'default', 'web')?.metadata.annotations?.team).toBe('shop');
    const limited = standin.issueToken('jane', [{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'get'] }]);
    const limitedConfig = standin.writeKubeconfig(join(dir, 'limited'), limited);
    const err = await run(kubectl, ['get', 'deployments'], { env: { ...process.env, KUBECONFIG: limitedConfig } }).catch((e: { stderr: string }) => e);
    expect((err as { stderr: string }).stderr).toContain('deployments.apps is forbidden: User "jane" cannot list resource "deployments" in API group "apps" in the namespace "default"');
  });
});

describe('@kubernetes/client-node', () => {
  it('informer lists, then sees updates and deletes; after compaction and a broken watch it re-lists', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, '/api/v1/pods', () => core.listPodForAllNamespaces());
    const seen: string[] = [];
    informer.on('add', (p) => seen.push(`add ${p.metadata?.name}`));
    informer.on('update', (p) => seen.push(`update ${p.metadata?.name} restarts=${p.status?.containerStatuses?.[0]?.restartCount}`));
    informer.on('delete', (p) => seen.push(`delete ${p.metadata?.name}`));
    // client-node's documented use: an informer stops on a connection error and is restarted by its owner.
    const errors: unknown[] = [];
    let stopped = false;
    informer.on('error', (e) => {
      errors.push(e);
      setTimeout(() => !stopped && void informer.start(), 100);
    });
    await informer.start();
    try {
      await vi.waitFor(() => expect(informer.list()).toHaveLength(4));
      const victim = informer.list()[0]!.metadata!.name!;
      const restarts = informer.list()[0]!.status!.containerStatuses![0]!.restartCount;
      standin.cluster.crashLoop('default', victim);
      await vi.waitFor(() => expect(seen).toContain(`update ${victim} restarts=${restarts + 1}`));
      standin.cluster.scaleDeployment('default', 'web', 3);
      await vi.waitFor(() => expect(seen.filter((s) => s.startsWith('delete'))).toHaveLength(1));

      // History is compacted and the stream cut: the client's re-watch from its last
      // resourceVersion gets 410, so it must list again, and it must see what changed meanwhile.
      const listsBefore = standin.api.requests.filter((r) => r.path === '/api/v1/pods' && !r.query.watch).length;
      standin.api.compact();
      standin.api.breakWatches();
      standin.cluster.scaleDeployment('default', 'web', 5);
      await vi.waitFor(() => expect(informer.list()).toHaveLength(5), { timeout: 10_000 });
      const listsAfter = standin.api.requests.filter((r) => r.path === '/api/v1/pods' && !r.query.watch).length;
      expect(listsAfter).toBeGreaterThan(listsBefore);
      // The cut stream surfaced as one error; the 410 itself was handled inside the client by re-listing.
      expect(errors.length).toBeLessThanOrEqual(1);
      expect(standin.api.requests.some((r) => r.query.watch && r.status === 200 && r.query.resourceVersion)).toBe(true);
    } finally {
      stopped = true;
      await informer.stop();
    }
  });
});
