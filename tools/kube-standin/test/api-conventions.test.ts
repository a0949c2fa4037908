/**
 * The stand-in answers as the Kubernetes API conventions say: discovery documents, list with
 * resourceVersion and limit/continue, watch replay, bookmarks and 410 after compaction, and
 * metav1.Status errors with the API server's reasons and wording.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeStandin, type KubeStandin } from '../src/index.js';
import { call, watchEvents } from './api-client.js';

let standin: KubeStandin;

beforeAll(async () => {
  standin = await startKubeStandin({ bookmarkIntervalMs: 100 });
  standin.cluster.addNode('node-1');
  standin.cluster.addNode('node-2');
  standin.cluster.createDeployment({ name: 'web', replicas: 5, image: 'nginx:1.25' });
});
afterAll(() => standin?.stop());

describe('discovery', () => {
  it('serves /version, /api, /apis and group versions', async () => {
    expect((await call(standin, '/version')).body).toMatchObject({ major: '1', gitVersion: expect.stringMatching(/^v1\./) });
    expect((await call(standin, '/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await call(standin, '/apis')).body;
    expect(groups.kind).toBe('APIGroupList');
    expect(groups.groups.map((g: any) => g.name)).toEqual(expect.arrayContaining(['apps', 'batch', 'coordination.k8s.io', 'discovery.k8s.io']));
    expect(groups.groups.map((g: any) => g.name)).not.toContain('apps.openshift.io');
    const core = (await call(standin, '/api/v1')).body;
    expect(core.resources).toContainEqual(expect.objectContaining({ name: 'pods', namespaced: true, kind: 'Pod', verbs: expect.arrayContaining(['list', 'watch']) }));
    expect(core.resources).toContainEqual(expect.objectContaining({ name: 'nodes/proxy' }));
  });

  it('shows the OpenShift groups only in openshift mode', async () => {
    const os = await startKubeStandin({ mode: 'openshift' });
    try {
      const names = (await call(os, '/apis')).body.groups.map((g: any) => g.name);
      expect(names).toEqual(expect.arrayContaining(['apps.openshift.io', 'route.openshift.io', 'build.openshift.io', 'image.openshift.io', 'project.openshift.io', 'quota.openshift.io']));
      expect((await call(os, '/apis/apps.openshift.io/v1')).body.resources).toContainEqual(expect.objectContaining({ name: 'deploymentconfigs', kind: 'DeploymentConfig', shortNames: ['dc'] }));
    } finally {
      await os.stop();
    }
  });
});

describe('list', () => {
  it('pages with limit/continue over one consistent snapshot', async () => {
    const first = (await call(standin, '/api/v1/pods?limit=2')).body;
    expect(first).toMatchObject({ kind: 'PodList', apiVersion: 'v1', metadata: { remainingItemCount: 3 } });
    expect(first.items).toHaveLength(2);
    standin.cluster.scaleDeployment('default', 'web', 6); // a change between pages is not seen
    const second = (await call(standin, `/api/v1/pods?limit=10&continue=${first.metadata.continue}`)).body;
    expect(second.items).toHaveLength(3);
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    expect(second.metadata.continue).toBeUndefined();
    standin.cluster.scaleDeployment('default', 'web', 5);
  });

  it('answers 410 Expired for a continue token older than compaction', async () => {
    const first = (await call(standin, '/api/v1/pods?limit=1')).body;
    standin.api.compact();
    const res = await call(standin, `/api/v1/pods?limit=1&continue=${first.metadata.continue}`);
    expect(res.status).toBe(410);
    expect(res.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 });
  });

  it('filters by label and field selectors (spec.nodeName)', async () => {
    const onNode = (await call(standin, '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1')).body.items;
    expect(onNode.length).toBeGreaterThan(0);
    expect(onNode.every((p: any) => p.spec.nodeName === 'node-1')).toBe(true);
    expect((await call(standin, '/api/v1/pods?labelSelector=app%20in%20(web)')).body.items).toHaveLength(5);
    expect((await call(standin, '/api/v1/pods?labelSelector=app%3Dnone')).body.items).toHaveLength(0);
  });
});

describe('watch', () => {
  it('replays changes after a resourceVersion and streams new ones, with bookmarks when asked', async () => {
    const rv = (await call(standin, '/apis/apps/v1/deployments')).body.metadata.resourceVersion;
    standin.cluster.scaleDeployment('default', 'web', 7);
    const events = await watchEvents(standin, `/apis/apps/v1/namespaces/default/deployments?watch=1&resourceVersion=${rv}&allowWatchBookmarks=true`, (ev) => ev.some((e) => e.type === 'BOOKMARK'));
    const modified = events.filter((e) => e.type === 'MODIFIED');
    expect(modified.at(-1).object.spec.replicas).toBe(7);
    const bookmark = events.find((e) => e.type === 'BOOKMARK');
    expect(bookmark.object).toMatchObject({ kind: 'Deployment', apiVersion: 'apps/v1', metadata: { resourceVersion: expect.any(String) } });
    expect(Number(bookmark.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(modified.at(-1).object.metadata.resourceVersion));
    standin.cluster.scaleDeployment('default', 'web', 5);
  });

  it('sends an ERROR event with 410 Expired when the resourceVersion was compacted away', async () => {
    const rv = (await call(standin, '/api/v1/pods')).body.metadata.resourceVersion;
    standin.cluster.scaleDeployment('default', 'web', 6);
    standin.api.compact();
    const events = await watchEvents(standin, `/api/v1/pods?watch=true&resourceVersion=${rv}`, () => false);
    expect(events).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired', message: expect.stringMatching(/^too old resource version: \d+ \(\d+\)$/) }) }]);
  });

  it('starts with ADDED for every object when no resourceVersion is given', async () => {
    const events = await watchEvents(standin, '/api/v1/nodes?watch=1', (ev) => ev.length >= 2);
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([['ADDED', 'node-1'], ['ADDED', 'node-2']]);
  });
});

describe('errors', () => {
  it('401 without a known token', async () => {
    for (const token of [null, 'nope']) {
      const res = await call(standin, '/api/v1/pods', { token });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    }
  });

  it('403 names the user, verb, resource, group and scope', async () => {
    const token = standin.issueToken('system:serviceaccount:sextant:sextant-agent', [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }]);
    expect((await call(standin, '/api/v1/pods', { token })).status).toBe(200);
    const res = await call(standin, '/apis/apps/v1/namespaces/default/deployments', { token });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      reason: 'Forbidden',
      code: 403,
      details: { group: 'apps', kind: 'deployments' },
      message: 'deployments.apps is forbidden: User "system:serviceaccount:sextant:sextant-agent" cannot list resource "deployments" in API group "apps" in the namespace "default"',
    });
    const proxy = await call(standin, '/api/v1/nodes/node-1/proxy/stats/summary', { token });
    expect(proxy.body.message).toBe('nodes "node-1" is forbidden: User "system:serviceaccount:sextant:sextant-agent" cannot get resource "nodes/proxy" in API group "" at the cluster scope');
  });

  it('404 NotFound, 409 AlreadyExists and Conflict on a stale Lease update, 429 with Retry-After', async () => {
    expect((await call(standin, '/api/v1/namespaces/default/pods/nope')).body).toMatchObject({ code: 404, reason: 'NotFound', message: 'pods "nope" not found', details: { name: 'nope', kind: 'pods' } });
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'leader' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } };
    const created = await call(standin, '/apis/coordination.k8s.io/v1/namespaces/default/leases', { method: 'POST', body: lease });
    expect(created.status).toBe(201);
    const again = await call(standin, '/apis/coordination.k8s.io/v1/namespaces/default/leases', { method: 'POST', body: lease });
    expect(again.body).toMatchObject({ code: 409, reason: 'AlreadyExists', message: 'leases.coordination.k8s.io "leader" already exists' });
    const v1 = created.body;
    const ok = await call(standin, '/apis/coordination.k8s.io/v1/namespaces/default/leases/leader', { method: 'PUT', body: { ...v1, spec: { ...v1.spec, holderIdentity: 'b' } } });
    expect(ok.status).toBe(200);
    const stale = await call(standin, '/apis/coordination.k8s.io/v1/namespaces/default/leases/leader', { method: 'PUT', body: { ...v1, spec: { ...v1.spec, holderIdentity: 'c' } } });
    expect(stale.body).toMatchObject({
      code: 409,
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on leases.coordination.k8s.io "leader": the object has been modified; please apply your changes to the latest version and try again',
    });
    standin.api.throttleNext(1, 2);
    const throttled = await call(standin, '/api/v1/pods');
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('2');
    expect(throttled.body).toMatchObject({ reason: 'TooManyRequests', details: { retryAfterSeconds: 2 } });
    expect((await call(standin, '/api/v1/pods')).status).toBe(200);
  });

  it('rejects a body whose kind does not match the URL and a malformed selector with 400', async () => {
    const res = await call(standin, '/api/v1/namespaces/default/pods', { method: 'POST', body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } } });
    expect(res.body).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect((await call(standin, '/api/v1/pods?labelSelector=a%20in%20(')).status).toBe(400);
    const garbage = await call(standin, '/api/v1/namespaces/default/configmaps', { method: 'POST', body: [1, 2] });
    expect(garbage.status).toBe(400);
  });
});

describe('kubelet summary through the node proxy', () => {
  it('reports node and pod usage of the pods placed on that node', async () => {
    const pods = (await call(standin, '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-2')).body.items;
    standin.cluster.setUsage('default', pods[0].metadata.name, 'web', { cpuCores: 0.25, workingSetBytes: 100 * 2 ** 20 });
    const summary = (await call(standin, '/api/v1/nodes/node-2/proxy/stats/summary')).body;
    expect(summary.node.nodeName).toBe('node-2');
    expect(summary.pods.map((p: any) => p.podRef.name).sort()).toEqual(pods.map((p: any) => p.metadata.name).sort());
    const mine = summary.pods.find((p: any) => p.podRef.name === pods[0].metadata.name);
    expect(mine.containers[0]).toMatchObject({ name: 'web', cpu: { usageNanoCores: 250_000_000 }, memory: { workingSetBytes: 100 * 2 ** 20 } });
    standin.cluster.setNodeReady('node-2', false);
    expect((await call(standin, '/api/v1/nodes/node-2/proxy/stats/summary')).status).toBe(503);
    standin.cluster.setNodeReady('node-2', true);
  });
});
