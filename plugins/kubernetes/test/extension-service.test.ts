/**
 * The `kubernetes-collector` service this plugin provides: another plugin that depends on it adds
 * an extension to the plain `kubernetes` collector, which runs it (collect() writes through the
 * collector's sink) — no import of the collector code, registration order handled by the runtime.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlugin } from '@sextant/plugin-api';
import { kubernetesCollectorService, type KubernetesExtension } from '@sextant/kubernetes-kit';
import plugin from '../src/plugin.js';
import { startAgent, startKubeStandin, tempDir, until, type Agent, type KubeStandin } from './fixture.js';

const countingExtension: KubernetesExtension = {
  id: 'node-count',
  requiredGroups: [],
  resources: [],
  collect(ctx) {
    ctx.gauge('test.extension.rounds', '1', ctx.baseResource, 1);
  },
};

/** Discovered before the kubernetes plugin: the runtime must still register the provider first. */
const extender = createPlugin({ pluginId: 'node-count', deps: { kubernetes: kubernetesCollectorService }, register: ({ kubernetes }) => kubernetes.addExtension(countingExtension) });

let k: KubeStandin;
let agent: Agent;
const dir = tempDir();

beforeAll(async () => {
  k = await startKubeStandin();
  k.cluster.addNode('node-1');
  agent = await startAgent({ kubeconfig: k.writeKubeconfig(join(dir.path, 'kc')), plugins: [extender, plugin], config: { leaderElection: { enabled: false } } });
  await until(() => agent.collector.synced && agent.collector.extensionsOn.includes('node-count'), 'synced with the extension on');
});
afterAll(async () => {
  await agent?.stop();
  await k?.stop();
  dir.remove();
});

describe('kubernetes-collector service', () => {
  it('runs an extension another plugin added to the kubernetes collector', async () => {
    await agent.collect();
    expect(agent.rt.values('test.extension.rounds').length).toBeGreaterThan(0);
    expect(agent.rt.runtime.plugins().find((p) => p.id === 'kubernetes')?.services).toEqual(['kubernetes-collector']);
  });
});
