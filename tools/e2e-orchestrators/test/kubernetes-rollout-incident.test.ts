/**
 * Kubernetes end to end: the stand-in API server, the real kubernetes collector, the real analysis
 * plugin (threshold detector + incident correlator) in one runtime. A deployment rolls out a new
 * revision, then one of the new pods goes into CrashLoopBackOff: the user should see one incident
 * that names the deployment and the rollout (with its revision) as the likely cause and shows the
 * rollout on its timeline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analysisPlugin } from '@sextant/analysis';
import { startKubeStandin, type KubeStandin } from '@sextant/kube-standin';
import type { Incident, SextantEvent } from '@sextant/plugin-api';
import kubernetesPlugin from '@sextant/plugin-kubernetes';
import { FakeClock, startTestRuntime, type TestRuntime } from '@sextant/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

let k: KubeStandin;
let rt: TestRuntime;
const clock = new FakeClock(Date.now());
const dir = mkdtempSync(join(tmpdir(), 'sextant-e2e-k8s-'));

async function until(check: () => boolean, what: string): Promise<void> {
  await vi.waitFor(
    () => {
      if (!check()) throw new Error(`waiting for: ${what}`);
    },
    { timeout: 15_000, interval: 25 },
  );
}

async function collect(): Promise<void> {
  clock.advance(10_000);
  await rt.collect();
}

const events = (type: string): SextantEvent[] => rt.runtime.pipeline.events.query({ where: (e: SextantEvent) => e.type === type });
const incidents = (): Incident[] => [...rt.runtime.pipeline.incidents.values()];

beforeAll(async () => {
  k = await startKubeStandin({ bookmarkIntervalMs: 200 });
  k.cluster.addNode('node-1');
  k.cluster.createDeployment({ name: 'checkout', replicas: 2, image: 'shop/checkout:1.4' });
  // a bystander that must stay out of the incident
  k.cluster.createDeployment({ name: 'catalog', replicas: 2, image: 'shop/catalog:2.0' });
  rt = await startTestRuntime({
    plugins: [kubernetesPlugin, analysisPlugin],
    clock,
    config: {
      interval: '10s',
      collectors: { kubernetes: { auth: 'kubeconfig', kubeconfig: k.writeKubeconfig(join(dir, 'kubeconfig')), leaderElection: { enabled: false } } },
      detectors: { threshold: { rules: [{ metric: 'k8s.container.ready', below: 1, severity: 'critical', name: 'container not ready' }] } },
      correlators: { incidents: {} },
    } as never,
  });
  expect(rt.problems).toEqual([]);
  await until(() => rt.runtime.statuses().find((s) => s.type === 'kubernetes')?.state === 'ok', 'informers synced');
  await collect();
}, 30_000);

afterAll(async () => {
  await rt?.stop();
  await k?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a rollout followed by a crash-looping pod', () => {
  it('becomes one incident naming the deployment and the rollout that preceded it', async () => {
    expect(incidents()).toEqual([]);

    k.cluster.rolloutDeployment('default', 'checkout', 'shop/checkout:1.5');
    await until(() => events('deploy').length === 1, 'the rollout event');
    const rollout = events('deploy')[0]!;
    expect(rollout.title).toContain('revision 2');
    await collect();
    expect(incidents()).toEqual([]); // a healthy rollout alone is no incident

    const newPod = k.api.store.list('/pods').find((p) => p.metadata.labels?.app === 'checkout' && (p.spec as any).containers[0].image === 'shop/checkout:1.5')!;
    expect(newPod).toBeDefined();
    k.cluster.crashLoop('default', newPod.metadata.name);
    await until(() => events('container.crash-loop').length === 1, 'the crash-loop event');
    // the correlator wants more confirmation right after a change (a blip is expected): a few rounds
    for (let i = 0; i < 6 && incidents().length === 0; i++) await collect();

    const open = incidents().filter((i) => i.status === 'open');
    expect(open).toHaveLength(1);
    const inc = open[0]!;
    expect(inc.severity).toBe('critical');
    expect(inc.title).toContain('container not ready');

    // likely cause: the deployment, because of the rollout of revision 2 just before
    // (the event's resource carries the workload's service.name, so the cause's entity is the
    // logical service the pods report under; the sentences name the deployment and revision)
    const cause = inc.causes[0]!;
    expect(cause.entity).toBe('service:checkout');
    expect(cause.summary).toContain(rollout.title);
    expect(cause.evidence.join('\n')).toMatch(/^deploy .* before the first anomaly: deployment default\/checkout rolled out revision 2: shop\/checkout:1\.4 -> shop\/checkout:1\.5/m);
    expect(inc.eventIds).toContain(rollout.id);

    // the rollout is on the timeline, before the first anomaly
    const onTimeline = inc.timeline.findIndex((t) => t.kind === 'event' && t.ref === rollout.id);
    expect(onTimeline).toBeGreaterThanOrEqual(0);
    const firstAnomaly = inc.timeline.findIndex((t) => t.kind === 'anomaly');
    expect(onTimeline).toBeLessThan(firstAnomaly);
    expect(inc.timeline[onTimeline]!.message).toBe(rollout.title);

    // the bystander deployment takes no part
    expect(JSON.stringify(inc)).not.toContain('catalog');
  });
});
