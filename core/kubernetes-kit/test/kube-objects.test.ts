/** Reading objects defensively: quantities, owners, container ids, change events on odd input. */
import { describe, expect, it } from 'vitest';
import { CONTAINER_ENTITY_KEYS } from '@sextant/plugin-api';
import { deploymentChanges, podChanges } from '../src/change-events.js';
import { containerEntity, containerIdOf, parseQuantity, podContainers, podOwners, prometheusContainerName } from '../src/kube-objects.js';
import type { KubeObject } from '../src/resource-informer.js';

describe('parseQuantity', () => {
  it('reads the Kubernetes suffixes and exponents', () => {
    expect(parseQuantity('100m')).toBeCloseTo(0.1);
    expect(parseQuantity('2')).toBe(2);
    expect(parseQuantity('1.5')).toBe(1.5);
    expect(parseQuantity('128Mi')).toBe(128 * 2 ** 20);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('250u')).toBeCloseTo(0.00025);
  });

  it('is NaN for anything that is not a quantity, never Infinity', () => {
    for (const bad of ['lots', '', '1.2.3', '5 Mi', 'Mi', '1e999', null, undefined, {}, Number.POSITIVE_INFINITY, Number.NaN, '9'.repeat(400)]) {
      expect(parseQuantity(bad), JSON.stringify(bad)).toBeNaN();
    }
    expect(parseQuantity('-5Mi')).toBe(-5 * 2 ** 20); // quantities may be negative; callers decide
  });
});

describe('owners and ids', () => {
  const pod = (owner: { kind: string; name: string } | undefined, labels: Record<string, string> = {}): KubeObject => ({
    metadata: { name: 'p', namespace: 'ns', uid: 'u', labels, ...(owner ? { ownerReferences: [{ apiVersion: 'v1', kind: owner.kind, name: owner.name, uid: 'x', controller: true }] } : {}) },
  });

  it('derives the Deployment from the ReplicaSet name and pod-template-hash, the CronJob from the Job name', () => {
    expect(podOwners(pod({ kind: 'ReplicaSet', name: 'web-7d4b9c' }, { 'pod-template-hash': '7d4b9c' })).top).toEqual({ kind: 'Deployment', name: 'web' });
    expect(podOwners(pod({ kind: 'ReplicaSet', name: 'standalone' })).top).toEqual({ kind: 'ReplicaSet', name: 'standalone' });
    expect(podOwners(pod({ kind: 'Job', name: 'nightly-28734560' })).top).toEqual({ kind: 'CronJob', name: 'nightly' });
    expect(podOwners(pod(undefined))).toEqual({});
  });

  it('accepts only plausible container ids', () => {
    expect(containerIdOf({ containerID: 'containerd://abc123' })).toBe('abc123');
    expect(containerIdOf({ containerID: 'docker://../../etc' })).toBeUndefined();
    expect(containerIdOf({ containerID: 42 })).toBeUndefined();
    expect(containerIdOf(undefined)).toBeUndefined();
  });
});

describe('change events on odd input', () => {
  it('no events from objects without status or spec', () => {
    const bare: KubeObject = { metadata: { name: 'a', namespace: 'n', uid: 'u' } };
    expect(podChanges(bare, bare, {})).toEqual([]);
    expect(deploymentChanges(bare, bare, new Map())).toEqual([]);
  });
});

describe('prometheus.io pod annotations', () => {
  const pod = (annotations: Record<string, string> | undefined, containers: unknown[]): KubeObject =>
    ({ metadata: { name: 'p', namespace: 'n', uid: 'u', labels: { 'prometheus.io/path': '/from-label' }, ...(annotations ? { annotations } : {}) }, spec: { containers }, status: { podIP: '10.0.0.9' } }) as KubeObject;
  const labelsOf = (p: KubeObject, name: string) => {
    const c = podContainers(p).find((x) => x.name === name)!;
    return JSON.parse(String(containerEntity(p, c).attributes[CONTAINER_ENTITY_KEYS.labels])) as Record<string, string>;
  };

  it('go to the container that declares the annotated port, else the first one, and win over pod labels', () => {
    const containers = [{ name: 'sidecar' }, { name: 'app', ports: [{ containerPort: 9102 }] }];
    const annotated = pod({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102', 'prometheus.io/path': '/m', 'other/x': 'y' }, containers);
    expect(prometheusContainerName(annotated)).toBe('app');
    expect(labelsOf(annotated, 'app')).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102', 'prometheus.io/path': '/m' });
    expect(labelsOf(annotated, 'app')['other/x']).toBeUndefined();
    expect(labelsOf(annotated, 'sidecar')['prometheus.io/scrape']).toBeUndefined();
    expect(prometheusContainerName(pod({ 'prometheus.io/scrape': 'true' }, containers))).toBe('sidecar');
    expect(prometheusContainerName(pod({ 'prometheus.io/port': 'abc' }, containers))).toBe('sidecar');
    expect(prometheusContainerName(pod(undefined, []))).toBeUndefined();
  });
});
