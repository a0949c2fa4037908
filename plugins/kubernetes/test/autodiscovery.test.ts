/**
 * With `publishContainers`, the containers of this node's pods become `container:<id>` entities in
 * the containers collector's shape, so the runtime's autodiscovery can start app plugins for them;
 * the pod annotation `sextant.io/<container>.plugins` is the `io.sextant.plugins` override.
 */
import { join } from 'node:path';
import { CONTAINER_ENTITY_KEYS as K } from '@sextant/plugin-api';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAgent, startKubeStandin, tempDir, until, type Agent, type KubeStandin } from './fixture.js';

let k: KubeStandin;
let agent: Agent;
const dir = tempDir();

beforeAll(async () => {
  k = await startKubeStandin();
  k.cluster.addNode('node-1');
  k.cluster.addNode('node-2');
});
afterAll(async () => {
  await agent?.stop();
  await k?.stop();
  dir.remove();
});

it('publishes container entities with the pod annotation as the plugins override', async () => {
  const override = JSON.stringify({ nginx: { url: 'http://{{host}}:{{port}}/nginx_status' } });
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'shop', namespace: 'default', labels: { app: 'shop' }, annotations: { 'sextant.io/web.plugins': override } },
    spec: { nodeName: 'node-1', containers: [{ name: 'web', image: 'nginx:1.25', ports: [{ containerPort: 8080, protocol: 'TCP' }] }, { name: 'cache', image: 'redis:7' }] },
    status: {
      phase: 'Running',
      podIP: '10.244.1.7',
      containerStatuses: [
        { name: 'web', ready: true, restartCount: 0, containerID: 'containerd://aaa111', state: { running: { startedAt: '2026-01-01T00:00:00Z' } } },
        { name: 'cache', ready: true, restartCount: 0, containerID: 'containerd://bbb222', state: { running: { startedAt: '2026-01-01T00:00:00Z' } } },
      ],
    },
  };
  k.api.store.create('/pods', pod as never);
  k.api.store.create('/pods', { ...pod, metadata: { ...pod.metadata, name: 'elsewhere' }, spec: { ...pod.spec, nodeName: 'node-2' }, status: { ...pod.status, containerStatuses: [{ ...pod.status.containerStatuses[0]!, containerID: 'containerd://ccc333' }] } } as never);
  agent = await startAgent({ kubeconfig: k.writeKubeconfig(join(dir.path, 'kc')), config: { nodeName: 'node-1', publishContainers: true, leaderElection: { enabled: false } } });
  const topo = agent.rt.runtime.topology;
  await until(() => topo.entity('container:aaa111') !== undefined, 'container entity');
  const web = topo.entity('container:aaa111')!;
  expect(web).toMatchObject({ type: 'container', name: 'shop/web' });
  expect(web.attributes).toMatchObject({ [K.id]: 'aaa111', [K.imageRef]: 'nginx:1.25', [K.state]: 'running', 'container.image.name': 'nginx' });
  expect(JSON.parse(String(web.attributes[K.labels]))).toMatchObject({ app: 'shop', 'io.kubernetes.pod.name': 'shop', 'io.kubernetes.container.name': 'web', 'io.sextant.plugins': override });
  expect(JSON.parse(String(web.attributes[K.ipAddresses]))).toEqual(['10.244.1.7']);
  expect(JSON.parse(String(web.attributes[K.ports]))).toEqual([{ port: 8080, protocol: 'tcp' }]);
  const cache = topo.entity('container:bbb222')!;
  expect(JSON.parse(String(cache.attributes[K.labels]))['io.sextant.plugins']).toBeUndefined();
  // Only this node's pods: the other node's agent publishes those.
  expect(topo.entity('container:ccc333')).toBeUndefined();
  // A deleted pod takes its containers with it (autodiscovery stops their plugins).
  k.api.store.delete('/pods', 'default', 'shop');
  await until(() => topo.entity('container:aaa111') === undefined && topo.entity('container:bbb222') === undefined, 'containers removed');
});
