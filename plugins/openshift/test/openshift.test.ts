/**
 * The `openshift` collector against the stand-in in OpenShift mode: the extension turns on from
 * API discovery, DeploymentConfig rollouts and a failed build become change events, routes link
 * a host to its service, quotas and DeploymentConfig replicas are metrics; on a plain Kubernetes
 * API server the extension stays off and the Kubernetes part still works.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime } from '@sextant/testkit';
import { startAgent, startKubeStandin, tempDir, until, type Agent, type KubeStandin } from '../../kubernetes/test/fixture.js';
import kubernetesPlugin from '../../kubernetes/src/plugin.js';
import plugin from '../src/plugin.js';

let k: KubeStandin;
let agent: Agent;
const dir = tempDir();

beforeAll(async () => {
  k = await startKubeStandin({ mode: 'openshift' });
  const os = k.openshift!;
  k.cluster.addNode('node-1');
  os.project('shop');
  os.createDeploymentConfig('shop', 'frontend', 2, 'frontend:1');
  k.cluster.createService('shop', 'frontend', { deploymentconfig: 'frontend' });
  os.createRoute('shop', 'frontend', 'shop.apps.example.com', 'frontend');
  os.createBuildConfig('shop', 'frontend');
  os.createImageStream('shop', 'frontend');
  os.clusterResourceQuota('shop-quota', { pods: '20', 'requests.cpu': '8' }, { pods: '2', 'requests.cpu': '500m' });
  agent = await startAgent({ kubeconfig: k.writeKubeconfig(join(dir.path, 'kc')), plugins: [kubernetesPlugin, plugin], type: 'openshift', config: { leaderElection: { enabled: false } } });
  await until(() => agent.collector.synced && agent.collector.extensionsOn.includes('openshift'), 'synced with the extension on');
});
afterAll(async () => {
  await agent?.stop();
  await k?.stop();
  dir.remove();
});

describe('openshift', () => {
  it('reports DeploymentConfigs, cluster quotas and routes; DC pods are one peer group', async () => {
    await until(() => agent.collector.informerStats !== undefined, 'stats');
    await agent.collect();
    expect(agent.rt.values('openshift.deploymentconfig.desired', { 'openshift.deploymentconfig.name': 'frontend' }).at(-1)).toBe(2);
    expect(agent.rt.values('openshift.deploymentconfig.available', { 'openshift.deploymentconfig.name': 'frontend' }).at(-1)).toBe(2);
    expect(agent.rt.values('openshift.clusterquota.used', { 'openshift.clusterquota.name': 'shop-quota' }).length).toBe(2);
    const topo = agent.rt.runtime.topology;
    expect(topo.entity('route:shop/frontend')).toMatchObject({ type: 'route', name: 'shop.apps.example.com' });
    expect(topo.edges({ from: 'route:shop/frontend', type: 'routes-to' }).map((e) => e.to)).toEqual(['service:shop/frontend']);
    const pods = k.api.store.list('/pods', 'shop');
    for (const p of pods) expect(topo.edges({ from: `pod:${p.metadata.uid}`, type: 'member-of' }).map((e) => e.to)).toEqual(['k8s.deploymentconfig:shop/frontend']);
    const phase = agent.rt.runtime.registry.find({ metric: 'k8s.pod.phase', match: { 'k8s.pod.uid': pods[0]!.metadata.uid! } })[0]!;
    expect(phase.resource['openshift.deploymentconfig.name']).toBe('frontend');
  });

  it('a DeploymentConfig rollout, a failed rollout, a failed build and a new image tag are change events', async () => {
    const os = k.openshift!;
    os.rolloutDeploymentConfig('shop', 'frontend', 'frontend:2');
    await until(() => agent.events('deploy').length === 1, 'rollout event');
    expect(agent.events('deploy')[0]).toMatchObject({ title: 'deploymentconfig shop/frontend rolled out #2 (frontend:2)', source: 'openshift', resource: { 'openshift.deploymentconfig.name': 'frontend' } });
    os.rolloutDeploymentConfig('shop', 'frontend', 'frontend:3', { fail: true });
    await until(() => agent.events('deploy.failed').length === 1, 'failed rollout event');
    expect(agent.events('deploy.failed')[0]!.title).toBe('deploymentconfig shop/frontend rollout #3 failed: replication controller "frontend-3" has failed progressing');
    os.runBuild('shop', 'frontend', 'Complete');
    os.runBuild('shop', 'frontend', 'Failed');
    await until(() => agent.events('build.failed').length === 1, 'failed build event');
    expect(agent.events('build.failed')[0]).toMatchObject({ title: 'build shop/frontend-2 failed: DockerBuildFailed (Docker build strategy has failed.)', severity: 'warning', resource: { 'openshift.buildconfig.name': 'frontend' } });
    expect(agent.events('build.complete').map((e) => e.title)).toEqual(['build shop/frontend-1 complete']);
    os.pushImageTag('shop', 'frontend', 'latest');
    await until(() => agent.events('image.tag').length === 1, 'image tag event');
    expect(agent.events('image.tag')[0]!.title).toMatch(/^imagestream shop\/frontend:latest now points to sha256:[0-9a-f]{64}$/);
  });

  it('stays off on a plain Kubernetes API server; the Kubernetes part still works', async () => {
    const plain = await startKubeStandin();
    plain.cluster.addNode('node-1');
    plain.cluster.createDeployment({ name: 'web', replicas: 1 });
    const a = await startAgent({ kubeconfig: plain.writeKubeconfig(join(dir.path, 'plain')), plugins: [kubernetesPlugin, plugin], type: 'openshift', config: { leaderElection: { enabled: false } } });
    try {
      await until(() => a.collector.synced && a.status().state === 'ok', 'synced');
      await a.collect();
      expect(a.collector.extensionsOn).toEqual([]);
      expect(a.rt.values('k8s.deployment.desired').length).toBeGreaterThan(0);
      expect(plain.api.requests.filter((r) => r.path.includes('openshift.io'))).toEqual([]);
    } finally {
      await a.stop();
      await plain.stop();
    }
  });
});

describe('openshift without the kubernetes plugin', () => {
  it('is a startup problem that names the missing service and how to get it, not a crash', async () => {
    const rt = await startTestRuntime({ plugins: [plugin] });
    try {
      expect(rt.problems).toHaveLength(1);
      expect(rt.problems[0]).toMatchObject({ plugin: 'openshift', code: 'SEXTANT_ERR_DEPENDENCY_UNKNOWN' });
      expect(rt.problems[0]!.message).toContain('"kubernetes-collector"');
      expect(rt.problems[0]!.hint).toContain('install and enable the plugin that provides "kubernetes-collector"');
    } finally {
      await rt.stop();
    }
  });
});
