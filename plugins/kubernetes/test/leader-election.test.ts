/**
 * Two agents, one Lease: only the leader reports cluster-level state; when the leader dies (its
 * credentials stop working and it cannot renew), the other takes over after the lease duration;
 * a leader that shuts down cleanly hands over at once.
 */
import { join } from 'node:path';
import { FakeClock } from '@sextant/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, startKubeStandin, tempDir, until, type Agent, type KubeStandin } from './fixture.js';

let k: KubeStandin;
const dir = tempDir();
const ALL = [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }];

beforeAll(async () => {
  k = await startKubeStandin();
  k.cluster.addNode('node-1');
  k.cluster.addNode('node-2');
  k.cluster.createDeployment({ name: 'web', replicas: 4, image: 'nginx:1.25' });
});
afterAll(async () => {
  await k?.stop();
  dir.remove();
});

const lease = () => k.api.store.get('coordination.k8s.io/leases', 'default', 'sextant-cluster-state');

describe('leader election', () => {
  it('one leader reports the cluster; the other takes over when the leader dies', async () => {
    const clock = new FakeClock(Date.now());
    const tokenA = k.issueToken('agent-a', ALL);
    const config = (node: string, identity: string) => ({ nodeName: node, leaderElection: { enabled: true, namespace: 'default', leaseName: 'sextant-cluster-state', identity, leaseDuration: '15s' } });
    const a = await startAgent({ kubeconfig: k.writeKubeconfig(join(dir.path, 'a'), tokenA), clock, config: config('node-1', 'agent-a') });
    await until(() => a.collector.isLeader, 'a leads');
    const b = await startAgent({ kubeconfig: k.writeKubeconfig(join(dir.path, 'b'), k.issueToken('agent-b', ALL)), clock, config: config('node-2', 'agent-b') });
    try {
      await until(() => a.collector.synced && b.collector.synced, 'both synced');
      await a.collect();
      await b.collect();
      expect(lease()!.spec).toMatchObject({ holderIdentity: 'agent-a', leaseDurationSeconds: 15 });
      expect(b.collector.isLeader).toBe(false);
      // Cluster-level state from the leader only; each agent reports the pods of its own node.
      expect(a.rt.values('k8s.deployment.desired').length).toBeGreaterThan(0);
      expect(b.rt.values('k8s.deployment.desired')).toEqual([]);
      const podsOf = (agent: Agent) => new Set(agent.rt.runtime.registry.find({ metric: 'k8s.pod.phase' }).map((s) => s.resource['k8s.node.name']));
      expect(podsOf(a)).toEqual(new Set(['node-1']));
      expect(podsOf(b)).toEqual(new Set(['node-2']));

      // The leader dies: it can no longer talk to the API server, so it cannot renew.
      k.api.revokeToken(tokenA);
      k.api.breakWatches();
      await b.collect(); // b sees the lease as it is now...
      expect(b.collector.isLeader).toBe(false);
      clock.advance(16_000); // ...and after the lease duration without a renewal, takes it.
      await b.rt.collect();
      expect(b.collector.isLeader).toBe(true);
      expect(lease()!.spec).toMatchObject({ holderIdentity: 'agent-b', leaseTransitions: 1 });
      await a.collect();
      expect(a.collector.isLeader).toBe(false); // a stepped down: it could not renew for 15 s
      await until(() => b.collector.synced, 'b cluster informers synced');
      await b.collect();
      expect(b.rt.values('k8s.deployment.desired').length).toBeGreaterThan(0);
      k.cluster.scaleDeployment('default', 'web', 2);
      await until(() => b.events('scale').length === 1, 'the new leader reports changes');
      expect(a.events('scale')).toEqual([]);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('a leader that shuts down releases the lease; the next agent takes it without waiting', async () => {
    const clock = new FakeClock(Date.now());
    const config = (identity: string) => ({ leaderElection: { enabled: true, namespace: 'default', leaseName: 'handover', identity, leaseDuration: '60s' } });
    const a = await startAgent({ kubeconfig: k.writeKubeconfig(join(dir.path, 'c')), clock, config: config('agent-c') });
    await until(() => a.collector.isLeader, 'c leads');
    const b = await startAgent({ kubeconfig: k.writeKubeconfig(join(dir.path, 'd')), clock, config: config('agent-d') });
    try {
      await b.collect();
      expect(b.collector.isLeader).toBe(false);
      await a.stop();
      expect(k.api.store.get('coordination.k8s.io/leases', 'default', 'handover')!.spec).toMatchObject({ holderIdentity: '' });
      await b.collect();
      expect(b.collector.isLeader).toBe(true);
    } finally {
      await b.stop();
    }
  });
});
