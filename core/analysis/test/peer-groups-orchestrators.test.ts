/**
 * Peer groups come from the orchestrator, with the attribute keys its plugin writes: the replicas
 * of one Swarm service (@sextant/plugin-swarm: docker.swarm.*) or one Kubernetes workload are peers
 * without any configuration.
 */
import { describe, expect, it } from 'vitest';
import { peerIdentity } from '../src/outliers/peer-groups.js';

describe('peer groups from orchestrator attributes', () => {
  it('groups Swarm tasks by docker.swarm.service.name', () => {
    const a = peerIdentity({ resource: { 'docker.swarm.task.id': 't1', 'docker.swarm.service.name': 'web' } });
    const b = peerIdentity({ resource: { 'docker.swarm.task.id': 't2', 'docker.swarm.service.name': 'web' } });
    expect(a).toMatchObject({ group: 'service:web', member: 'task:t1' });
    expect(b).toMatchObject({ group: 'service:web', member: 'task:t2' });
  });

  it('prefers the member-of edge the orchestrator plugin puts in the topology', () => {
    const topology = {
      edges: (q: { from?: string; type?: string }) => (q.from === 'container:c1' && q.type === 'member-of' ? [{ from: 'container:c1', to: 'service:web', type: 'member-of' }] : []),
    };
    expect(peerIdentity({ resource: { 'container.id': 'c1' } }, topology as never)).toMatchObject({ group: 'service:web', member: 'container:c1' });
  });

  it('groups Kubernetes pods by their workload within the namespace', () => {
    expect(peerIdentity({ resource: { 'k8s.pod.uid': 'u1', 'k8s.namespace.name': 'shop', 'k8s.deployment.name': 'api' } })).toMatchObject({ group: 'service:shop/api', member: 'pod:u1' });
  });
});
