/**
 * Workloads, pods and nodes of a stand-in cluster through a real runtime: metrics with k8s.*
 * names and resource attributes, topology, and the change events a scenario produces.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { last, startAgent, startKubeStandin, tempDir, until, type Agent, type KubeStandin } from './fixture.js';

let k: KubeStandin;
let agent: Agent;
const dir = tempDir();

beforeAll(async () => {
  k = await startKubeStandin({ bookmarkIntervalMs: 200 });
  k.cluster.addNode('node-1');
  k.cluster.addNode('node-2');
  k.cluster.createDeployment({ name: 'web', replicas: 3, image: 'nginx:1.25' });
  k.cluster.createService('default', 'web', { app: 'web' });
  k.cluster.createResourceQuota('default', 'compute', { 'requests.cpu': '10', pods: '50' }, { 'requests.cpu': '300m', pods: '3' });
  agent = await startAgent({ kubeconfig: k.writeKubeconfig(join(dir.path, 'kubeconfig')), config: { leaderElection: { enabled: false } } });
  await until(() => agent.collector.cachedObjects > 10 && agent.status().state === 'ok', 'informers synced');
});
afterAll(async () => {
  await agent?.stop();
  await k?.stop();
  dir.remove();
});

const pods = () => k.api.store.list('/pods').filter((p) => p.metadata.labels?.app === 'web');

describe('metrics', () => {
  it('reports pods, containers, deployments, nodes and quotas with k8s.* names and resource attributes', async () => {
    await agent.collect();
    const pod = pods()[0]!;
    expect(last(agent.rt, 'k8s.pod.phase', { 'k8s.pod.uid': pod.metadata.uid! })).toBe(2);
    const series = agent.rt.runtime.registry.find({ metric: 'k8s.pod.phase', match: { 'k8s.pod.uid': pod.metadata.uid! } })[0]!;
    expect(series.resource).toMatchObject({ 'k8s.namespace.name': 'default', 'k8s.pod.name': pod.metadata.name, 'k8s.node.name': (pod.spec as any).nodeName, 'k8s.deployment.name': 'web', 'k8s.replicaset.name': expect.stringMatching(/^web-/) });
    expect(last(agent.rt, 'k8s.container.cpu_limit', { 'k8s.pod.uid': pod.metadata.uid! })).toBe(0.5);
    expect(last(agent.rt, 'k8s.container.memory_limit', { 'k8s.pod.uid': pod.metadata.uid! })).toBe(256 * 2 ** 20);
    expect(last(agent.rt, 'k8s.deployment.desired', { 'k8s.deployment.name': 'web' })).toBe(3);
    expect(last(agent.rt, 'k8s.deployment.available', { 'k8s.deployment.name': 'web' })).toBe(3);
    expect(agent.rt.values('k8s.node.condition', { 'k8s.node.name': 'node-1' }).length).toBeGreaterThan(0);
    expect(last(agent.rt, 'k8s.node.allocatable.cpu', { 'k8s.node.name': 'node-1' })).toBe(4);
    expect(last(agent.rt, 'k8s.resource_quota.used', { 'k8s.resourcequota.name': 'compute' })).toBeDefined();
    expect(last(agent.rt, 'k8s.service.endpoint.count', { 'k8s.service.name': 'web' })).toBeDefined();
  });

  it('reads usage from the kubelet summary and puts it next to the limit', async () => {
    const pod = pods()[0]!;
    k.cluster.setUsage('default', pod.metadata.name, 'web', { cpuCores: 0.5, workingSetBytes: 200 * 2 ** 20 });
    await agent.collect();
    const match = { 'k8s.pod.uid': pod.metadata.uid! };
    expect(last(agent.rt, 'container.cpu.usage', match)).toBeCloseTo(0.5);
    expect(last(agent.rt, 'container.memory.working_set', match)).toBe(200 * 2 ** 20);
    // 0.5 cores of a 0.5-core limit: running at its limit.
    expect(last(agent.rt, 'k8s.container.cpu_limit_utilization', match)).toBeCloseTo(1);
    expect(last(agent.rt, 'k8s.container.memory_limit_utilization', match)).toBeCloseTo(200 / 256);
    expect(last(agent.rt, 'k8s.node.memory.working_set', { 'k8s.node.name': 'node-1' })).toBeGreaterThan(0);
    const containerSeries = agent.rt.runtime.registry.find({ metric: 'container.cpu.usage', match })[0]!;
    const id = (pod.status as any).containerStatuses[0].containerID.replace('containerd://', '');
    expect(containerSeries.resource['container.id']).toBe(id);
  });
});

describe('topology', () => {
  it('links node -> pod -> container and pod -> ReplicaSet -> Deployment -> Service; replicas form one peer group', async () => {
    await agent.collect();
    const topo = agent.rt.runtime.topology;
    const pod = pods()[0]!;
    const podId = `pod:${pod.metadata.uid}`;
    await until(() => topo.entity(podId) !== undefined, 'pod entity');
    expect(topo.edges({ from: podId, type: 'runs-on' }).map((e) => e.to)).toEqual([`host:${(pod.spec as any).nodeName}`]);
    expect(topo.edges({ from: podId, type: 'member-of' }).map((e) => e.to)).toEqual(['k8s.deployment:default/web']);
    const rs = pod.metadata.ownerReferences![0]!.name;
    expect(topo.edges({ from: podId, type: 'owned-by' }).map((e) => e.to)).toEqual([`k8s.replicaset:default/${rs}`]);
    expect(topo.edges({ from: `k8s.replicaset:default/${rs}`, type: 'owned-by' }).map((e) => e.to)).toEqual(['k8s.deployment:default/web']);
    expect(topo.edges({ from: 'k8s.deployment:default/web', type: 'exposed-by' }).map((e) => e.to)).toEqual(['service:default/web']);
    const containerId = (pod.status as any).containerStatuses[0].containerID.replace('containerd://', '');
    expect(topo.edges({ from: `container:${containerId}`, type: 'runs-on' }).map((e) => e.to)).toEqual([podId]);
    const members = topo.edges({ to: 'k8s.deployment:default/web', type: 'member-of' });
    expect(members).toHaveLength(pods().length);
  });
});

describe('change events', () => {
  it('a deployment scaled up and down', async () => {
    k.cluster.scaleDeployment('default', 'web', 5);
    await until(() => agent.events('scale').length === 1, 'scale up event');
    k.cluster.scaleDeployment('default', 'web', 2);
    await until(() => agent.events('scale').length === 2, 'scale down event');
    expect(agent.events('scale').map((e) => e.title)).toEqual(['deployment default/web scaled 3 -> 5', 'deployment default/web scaled 5 -> 2']);
    expect(agent.events('scale')[0]!.resource).toMatchObject({ 'k8s.namespace.name': 'default', 'k8s.deployment.name': 'web' });
    await agent.collect();
    expect(last(agent.rt, 'k8s.deployment.desired', { 'k8s.deployment.name': 'web' })).toBe(2);
    await until(() => agent.rt.runtime.topology.edges({ to: 'k8s.deployment:default/web', type: 'member-of' }).length === 2, 'deleted pods leave the topology');
  });

  it('a rolling update, a stalled rollout and a rollback', async () => {
    k.cluster.rolloutDeployment('default', 'web', 'nginx:1.26');
    await until(() => agent.events('deploy').length === 1, 'deploy event');
    expect(agent.events('deploy')[0]).toMatchObject({ title: 'deployment default/web rolled out revision 2: nginx:1.25 -> nginx:1.26', severity: 'info', attributes: { 'k8s.deployment.revision': 2 } });
    // The deploy and the pods' series share service.name: that is how the correlator finds
    // "the deploy just before" an anomaly of one of the pods.
    expect(agent.events('deploy')[0]!.resource['service.name']).toBe('web');
    const podSeries = agent.rt.runtime.registry.find({ metric: 'k8s.pod.phase', match: { 'k8s.deployment.name': 'web' } });
    expect(new Set(podSeries.map((x) => x.resource['service.name']))).toEqual(new Set(['web']));
    k.cluster.rolloutDeployment('default', 'web', 'nginx:broken', { stall: true });
    await until(() => agent.events('deploy.stalled').length === 1, 'stalled event');
    expect(agent.events('deploy.stalled')[0]!.title).toMatch(/^deployment default\/web rollout of revision 3 stalled: ReplicaSet "web-\w+" has timed out progressing\.$/);
    k.cluster.rollbackDeployment('default', 'web');
    await until(() => agent.events('rollback').length === 1, 'rollback event');
    expect(agent.events('rollback')[0]).toMatchObject({ severity: 'warning', title: expect.stringMatching(/^deployment default\/web rolled back to nginx:1\.26 \(revision 4, as revision 2\)$/) });
  });

  it('CrashLoopBackOff and OOMKilled containers, evicted pods', async () => {
    const [a, b, c] = [...pods()].filter((p) => (p.status as any).phase === 'Running');
    k.cluster.crashLoop('default', a!.metadata.name);
    await until(() => agent.events('container.crash-loop').length === 1, 'crash loop event');
    expect(agent.events('container.crash-loop')[0]).toMatchObject({
      title: `container web of pod default/${a!.metadata.name} is in CrashLoopBackOff (last exit: Error, code 1)`,
      resource: { 'k8s.deployment.name': 'web', 'k8s.pod.name': a!.metadata.name },
    });
    k.cluster.oomKill('default', b!.metadata.name);
    await until(() => agent.events('container.oom').length === 1, 'oom event');
    expect(agent.events('container.oom')[0]!.title).toBe(`container web of pod default/${b!.metadata.name} was OOM-killed (restart 1)`);
    await agent.collect();
    expect(last(agent.rt, 'k8s.container.restarts', { 'k8s.pod.uid': b!.metadata.uid! })).toBe(1);
    if (c) {
      k.cluster.evictPod('default', c.metadata.name);
      await until(() => agent.events('pod.evicted').length === 1, 'evicted event');
    }
    // The kubelet's Warning event about the back-off arrives as a core event too.
    await until(() => agent.events('k8s.event').some((e) => e.title.includes('BackOff')), 'core warning event');
  });

  it('a node going NotReady and back; a failed job', async () => {
    k.cluster.setNodeReady('node-2', false, true);
    await until(() => agent.events('node.not-ready').length === 1, 'node NotReady event');
    expect(agent.events('node.not-ready')[0]).toMatchObject({ severity: 'critical', title: 'node node-2 is NotReady (Unknown, NodeStatusUnknown)', resource: { 'k8s.node.name': 'node-2' } });
    await agent.collect();
    expect(last(agent.rt, 'k8s.node.condition', { 'k8s.node.name': 'node-2' })).toBeDefined();
    expect(agent.rt.values('k8s.node.condition', { 'k8s.node.name': 'node-2' })).toContain(-1);
    k.cluster.setNodeReady('node-2', true);
    await until(() => agent.events('node.ready').length === 1, 'node Ready event');
    k.cluster.createJob('default', 'backup');
    await until(() => agent.collector.informerStats().jobs!.events > 0, 'job seen');
    k.cluster.finishJob('default', 'backup', false);
    await until(() => agent.events('job.failed').length === 1, 'failed job event');
    expect(agent.events('job.failed')[0]!.title).toBe('job default/backup failed: BackoffLimitExceeded (Job has reached the specified backoff limit)');
  });
});
