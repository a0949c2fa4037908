/**
 * Faults: a watch cut mid-stream and history compacted (410 -> re-list), an expired token (401)
 * rotated in the kubeconfig, a forbidden resource (403) that must not stop the rest, an API server
 * that is not there at start, objects with impossible fields, a flood of core events.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@sextant/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { last, startAgent, startKubeStandin, tempDir, until, type Agent, type KubeStandin } from './fixture.js';

let k: KubeStandin;
const dir = tempDir();
const agents: Agent[] = [];

beforeAll(async () => {
  k = await startKubeStandin({ bookmarkIntervalMs: 100 });
  k.cluster.addNode('node-1');
  k.cluster.createDeployment({ name: 'api', replicas: 2, image: 'api:1' });
});
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
});
afterAll(async () => {
  await k?.stop();
  dir.remove();
});

async function agent(kubeconfig: string, config: Record<string, unknown> = {}): Promise<Agent> {
  const a = await startAgent({ kubeconfig, config: { leaderElection: { enabled: false }, ...config } });
  agents.push(a);
  return a;
}

describe('watch faults', () => {
  it('resumes after a cut stream, re-lists after 410, and sees what changed meanwhile', async () => {
    const a = await agent(k.writeKubeconfig(join(dir.path, 'kc-watch')));
    await until(() => a.status().state === 'ok' && a.collector.informerStats().deployments?.watchesOpened === 1, 'synced');
    await until(() => a.collector.informerStats().deployments!.bookmarks > 0, 'bookmarks arrive');

    k.api.breakWatches();
    k.cluster.scaleDeployment('default', 'api', 3);
    await until(() => a.events('scale').length === 1, 'scale seen after the cut');
    const listsBefore = a.collector.informerStats().deployments!.lists;

    // Reconnects fail (429) while the cluster moves on and history is compacted: the informer's
    // resourceVersion is then too old, the server answers 410, and it must list again.
    k.api.throttleNext(1_000_000, 0);
    k.api.breakWatches();
    k.cluster.scaleDeployment('default', 'api', 4);
    k.api.compact();
    k.api.throttleNext(0);
    await until(() => a.events('scale').length === 2, 'scale seen after the 410');
    const stats = a.collector.informerStats().deployments!;
    expect(stats.relistsAfterGone).toBeGreaterThan(0);
    expect(stats.lists).toBeGreaterThan(listsBefore);
    // The re-list reports the change once, not twice.
    expect(a.events('scale').map((e) => e.title)).toEqual(['deployment default/api scaled 2 -> 3', 'deployment default/api scaled 3 -> 4']);
    await a.collect();
    expect(last(a.rt, 'k8s.deployment.desired', { 'k8s.deployment.name': 'api' })).toBe(4);
  });

  it('waits out 429s and keeps going', async () => {
    k.api.throttleNext(3, 0);
    const a = await agent(k.writeKubeconfig(join(dir.path, 'kc-429')));
    await until(() => a.status().state === 'ok', 'synced despite 429s');
  });
});

describe('credentials and permissions', () => {
  it('401: reports AUTH_FAILED, then recovers when the token in the kubeconfig is rotated', async () => {
    const user = 'system:serviceaccount:sextant:sextant-agent';
    const first = k.issueToken(user, [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]);
    const path = k.writeKubeconfig(join(dir.path, 'kc-rotate'), first);
    const a = await agent(path);
    await until(() => a.status().state === 'ok' && a.collector.synced, 'synced');
    k.api.revokeToken(first);
    k.api.breakWatches();
    await until(() => a.status().code === 'SEXTANT_ERR_AUTH_FAILED', 'auth failure reported');
    expect(a.status()).toMatchObject({ state: 'degraded', message: expect.stringContaining('401 Unauthorized') });
    const second = k.issueToken(user, [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]);
    writeFileSync(path, k.kubeconfig(second));
    await until(() => a.status().state === 'ok', 'recovered with the new token');
    k.cluster.scaleDeployment('default', 'api', 2);
    await until(() => a.events('scale').length === 1, 'events flow again');
  });

  it('403 on one resource names the missing rule; everything else is still reported', async () => {
    const rules = [
      { apiGroups: [''], resources: ['nodes', 'namespaces', 'pods', 'services', 'events', 'resourcequotas'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] },
      { apiGroups: ['apps'], resources: ['replicasets', 'statefulsets', 'daemonsets'], verbs: ['list', 'watch'] },
      { apiGroups: ['batch', 'discovery.k8s.io'], resources: ['*'], verbs: ['list', 'watch'] },
    ];
    const a = await agent(k.writeKubeconfig(join(dir.path, 'kc-403'), k.issueToken('limited', rules)));
    await until(() => a.status().code === 'SEXTANT_ERR_UNAUTHORIZED', '403 reported');
    expect(a.status().state).toBe('degraded');
    expect(a.status().message).toContain('missing RBAC rule list, watch on "deployments" in API group "apps"');
    await a.collect();
    expect(a.rt.values('k8s.pod.phase').length).toBeGreaterThan(0);
    expect(a.rt.values('k8s.replicaset.desired').length).toBeGreaterThan(0);
    expect(a.rt.values('container.cpu.usage').length).toBeGreaterThan(0);
    expect(a.rt.values('k8s.deployment.desired')).toEqual([]);
  });
});

describe('bad input', () => {
  it('an API server that is not there at start: degraded with the address, collection rounds still run', async () => {
    const port = await freePort();
    const path = join(dir.path, 'kc-dead');
    writeFileSync(path, k.kubeconfig().replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${port}`));
    const a = await agent(path);
    await until(() => a.status().code === 'SEXTANT_ERR_CONNECTION_FAILED', 'connection failure reported');
    expect(a.status().message).toMatch(/cannot reach the API server at https:\/\/127\.0\.0\.1:\d+/);
    await a.collect(); // a round without a cluster must not throw
    expect(a.status().state).toBe('degraded');
  });

  it('objects with unexpected or missing optional fields are skipped field by field, never crash', async () => {
    const a = await agent(k.writeKubeconfig(join(dir.path, 'kc-bad')));
    await until(() => a.status().state === 'ok' && a.collector.synced, 'synced');
    const weird = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'weird', namespace: 'default' },
      spec: { nodeName: 'node-1', containers: [{ name: 'x', image: 'x', resources: { limits: { cpu: 'lots', memory: '-5Ei' } } }, { notAName: true }] },
      status: { phase: 42, containerStatuses: [{ name: 'x', restartCount: 'many', containerID: 'docker://../../etc', state: null }] },
    };
    await k.api.store.create('/pods', weird as never);
    const bare = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bare', namespace: 'default' } };
    await k.api.store.create('/pods', bare as never);
    await until(() => a.collector.cachedObjects > 0 && [...a.rt.runtime.topology.entities('pod')].some((e) => e.name === 'default/bare'), 'odd pods seen');
    await a.collect();
    const weirdUid = k.api.store.get('/pods', 'default', 'weird')!.metadata.uid!;
    expect(last(a.rt, 'k8s.pod.phase', { 'k8s.pod.uid': weirdUid })).toBe(5); // Unknown
    expect(a.rt.values('k8s.container.cpu_limit', { 'k8s.pod.uid': weirdUid })).toEqual([]);
    expect(a.rt.values('k8s.container.restarts', { 'k8s.pod.uid': weirdUid })).toEqual([]);
    // An id that is not an id never becomes a topology entity id.
    expect(a.rt.runtime.topology.edges({ to: `pod:${weirdUid}`, type: 'runs-on' })).toEqual([]);
    expect(a.status().state).toBe('ok');
    k.api.store.delete('/pods', 'default', 'weird');
    k.api.store.delete('/pods', 'default', 'bare');
  });

  it('a flood of Warning events is capped at 120 a minute', async () => {
    const a = await agent(k.writeKubeconfig(join(dir.path, 'kc-flood')));
    await until(() => a.status().state === 'ok' && a.collector.synced, 'synced');
    const pod = k.api.store.list('/pods')[0]!;
    for (let i = 0; i < 300; i++) k.cluster.recordEvent(pod, 'Warning', 'Unhealthy', `Readiness probe failed: ${i}`);
    await until(() => a.events('k8s.event').length >= 120, 'events forwarded');
    await new Promise((r) => setTimeout(r, 200));
    expect(a.events('k8s.event').length).toBe(120);
  });
});
