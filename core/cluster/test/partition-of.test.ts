import { describe, expect, it } from 'vitest';
import { peerIdentity } from '@sextant/analysis';
import type { Attributes, SeriesDescriptor } from '@sextant/plugin-api';
import { seriesKey } from '@sextant/runtime';
import { fnv1a32, partitionKey, partitionOf, partitionOfKey, peerGroupOf, PARTITIONING } from '../src/index.js';

const d = (metric: string, resource: Attributes, attributes: Attributes = {}): SeriesDescriptor => ({ metric, unit: '1', type: 'gauge', resource, attributes });

describe('partition of a series: peers share a partition', () => {
  it('keeps the hash stable (a group\'s data depends on it)', () => {
    // Fixed values: if these change, existing groups would put their series in other partitions.
    expect(PARTITIONING).toBe('peer-group/fnv1a32/v1');
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    expect(partitionOf(d('container.cpu.usage', { 'container.id': 'c1', 'service.name': 'checkout' }), 64)).toBe(fnv1a32('peer\u0000container.cpu.usage\u0000service:checkout\u0000') % 64);
  });

  it('puts the replicas of one service in one partition, which the whole series key did not', () => {
    const replicas = Array.from({ length: 10 }, (_, i) => d('container.cpu.usage', { 'container.id': `c${i}`, 'service.name': 'checkout', 'host.name': `h${i % 3}` }, { 'cpu.mode': 'user' }));
    expect(new Set(replicas.map((r) => partitionOf(r, 64))).size).toBe(1);
    expect(new Set(replicas.map((r) => partitionOfKey(seriesKey(r), 64))).size).toBeGreaterThan(1);
    // Other point attributes are another peer cell, free to land elsewhere; other metrics too.
    const system = replicas.map((r) => ({ ...r, attributes: { 'cpu.mode': 'system' } }));
    expect(new Set(system.map((r) => partitionOf(r, 64))).size).toBe(1);
  });

  it('agrees with the peer-outlier detector on who is a peer (peerIdentity without topology)', () => {
    const resources: Attributes[] = [];
    const values = { id: ['c1', undefined], pod: ['p1', undefined], task: ['t1', undefined], host: ['h1', undefined], ns: ['prod', undefined], dep: ['web', undefined], dc: ['dc1', undefined], swarm: ['sw', undefined], svc: ['shop', undefined], image: ['nginx', undefined], role: ['db', undefined] };
    // Every combination of the attributes peerIdentity reads.
    const keys = Object.keys(values) as (keyof typeof values)[];
    const attr: Record<keyof typeof values, string> = { id: 'container.id', pod: 'k8s.pod.name', task: 'docker.swarm.task.id', host: 'host.name', ns: 'k8s.namespace.name', dep: 'k8s.deployment.name', dc: 'openshift.deploymentconfig.name', swarm: 'docker.swarm.service.name', svc: 'service.name', image: 'container.image.name', role: 'host.role' };
    for (let mask = 0; mask < 1 << keys.length; mask++) {
      const r: Record<string, string> = {};
      keys.forEach((k, i) => {
        if (mask & (1 << i)) r[attr[k]] = values[k][0]!;
      });
      resources.push(r);
    }
    let grouped = 0;
    for (const r of resources) {
      const identity = peerIdentity({ resource: r });
      expect(peerGroupOf(r), JSON.stringify(r)).toBe(identity?.group);
      if (identity) grouped++;
      // Two members of the same group get the same key; without a group the key is the series key.
      const other = { ...r, ...(r['container.id'] ? { 'container.id': 'c2' } : r['k8s.pod.name'] ? { 'k8s.pod.name': 'p2' } : r['docker.swarm.task.id'] ? { 'docker.swarm.task.id': 't2' } : { 'host.name': 'h2' }) };
      if (identity && peerIdentity({ resource: other })?.group === identity.group) expect(partitionKey(d('m', other))).toBe(partitionKey(d('m', r)));
      if (!identity) expect(partitionKey(d('m', r))).toBe(seriesKey(d('m', r)));
    }
    expect(grouped).toBeGreaterThan(resources.length / 2);
  });

  it('spreads a realistic set: 10k series of 1,000 services over 64 partitions', () => {
    const counts = new Array<number>(64).fill(0);
    let n = 0;
    for (let s = 0; s < 1000; s++) {
      // 1-10 replicas per service, a handful of metrics each
      const replicas = 1 + (s % 10);
      const metrics = ['container.cpu.usage', 'container.memory.usage', 'http.server.requests', 'http.server.duration', 'container.network.io'];
      for (let r = 0; r < replicas && n < 10_000; r++) {
        for (const m of metrics.slice(0, 1 + ((s + r) % 5))) {
          counts[partitionOf(d(m, { 'container.id': `s${s}-r${r}`, 'service.name': `svc-${s}`, 'host.name': `h${(s + r) % 50}` }), 64)]++;
          n++;
        }
      }
    }
    const mean = n / 64;
    const max = Math.max(...counts);
    const min = Math.min(...counts);
    // Measured: see the README ("Partitions"); a generous bound so a change of the set does not flake.
    expect(max / mean).toBeLessThan(1.6); // 1.43 (whole series key: 1.22)
    expect(min / mean).toBeGreaterThan(0.5); // 0.76 (0.83)
  });
});
