/**
 * Docker Swarm end to end, on a real swarm: a private dockerd of the test's own (the swarm plugin's
 * fixture: its own data root, socket and single-node swarm, so no other test's swarm is touched),
 * the real swarm plugin and the real analysis plugin in one runtime. A healthy service is updated
 * to a spec whose tasks exit non-zero: the user should see one incident whose likely cause is the
 * service update, with the update and the paused rollout on its timeline.
 */
import { analysisPlugin } from '@sextant/analysis';
import type { Incident, SextantEvent } from '@sextant/plugin-api';
import swarmPlugin from '@sextant/plugin-swarm/plugin';
import { needBinary, needCondition, startTestRuntime, type TestRuntime } from '@sextant/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { PrivateDockerd } from '../../../plugins/swarm/test/fixtures/private-dockerd.js';

let engine: PrivateDockerd | undefined;
let rt: TestRuntime | undefined;

afterAll(async () => {
  await rt?.stop();
  await engine?.destroy();
}, 120_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a swarm service update whose tasks fail', () => {
  it('becomes one incident with the update as its likely cause and on its timeline', async (ctx) => {
    const dockerd = needBinary(ctx, 'dockerd', 'apt-get install docker.io');
    needCondition(ctx, process.getuid?.() === 0, 'starting a private dockerd needs root');
    engine = new PrivateDockerd(dockerd);
    await engine.start();
    await engine.initSwarm();
    const image = engine.importImage();
    engine.docker('service', 'create', '-d', '--no-resolve-image', '--name', 'api', '--replicas', '2', '--network', 'host', '--stop-grace-period', '0s', '--update-parallelism', '1', '--update-failure-action', 'pause', '--update-monitor', '2s', '--restart-delay', '1s', image, 'sleep', '3600');
    // a bystander service that must stay out of the incident
    engine.docker('service', 'create', '-d', '--no-resolve-image', '--name', 'worker', '--replicas', '1', '--network', 'host', '--stop-grace-period', '0s', image, 'sleep', '3600');
    const runningTasks = (name: string) => engine!.docker('service', 'ps', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}', name).split('\n').filter((l) => l.startsWith('Running')).length;
    for (const deadline = Date.now() + 60_000; runningTasks('api') < 2 || runningTasks('worker') < 1; await sleep(250)) {
      if (Date.now() > deadline) throw new Error('services did not start');
    }

    const runtime = await startTestRuntime({
      plugins: [swarmPlugin, analysisPlugin],
      config: {
        interval: '10s',
        collectors: { swarm: { socket: engine.socketPath, maxBackoff: '500ms' } },
        detectors: { threshold: { rules: [{ metric: 'docker.swarm.service.replicas.running', match: { 'service.name': 'api' }, below: 2, severity: 'critical', name: 'api replicas running' }] } },
        correlators: { incidents: {} },
      } as never,
    });
    rt = runtime;
    expect(runtime.problems).toEqual([]);
    const events = (type: string): SextantEvent[] => runtime.runtime.pipeline.events.query({ where: (e: SextantEvent) => e.type === type && e.resource['service.name'] === 'api' });
    const incidents = (): Incident[] => [...runtime.runtime.pipeline.incidents.values()];
    const pollUntil = async (condition: () => boolean, what: string) => {
      for (const deadline = Date.now() + 90_000; ; await sleep(250)) {
        await runtime.collect();
        if (condition()) return;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(runtime.runtime.pipeline.events.query({}).map((e) => [e.type, e.title, e.attributes]))}; incidents: ${JSON.stringify(incidents().map((i) => i.title))}; status: ${JSON.stringify(runtime.runtime.statuses())}`);
      }
    };
    await pollUntil(() => runtime.values('docker.swarm.service.replicas.running', { 'service.name': 'api' }).at(-1) === 2, 'api reported with 2 running replicas');
    for (let i = 0; i < 3; i++) await runtime.collect();
    expect(incidents()).toEqual([]); // a healthy service is no incident

    // the new release: another image tag whose command exits 3
    engine.docker('tag', image, 'sextant-test/busybox:next');
    engine.docker('service', 'update', '-d', '--no-resolve-image', '--image', 'sextant-test/busybox:next', '--args', "sh -c 'exit 3'", 'api');
    await pollUntil(() => events('deploy').some((e) => e.attributes?.['docker.swarm.change'] === 'update'), 'the update event');
    const update = events('deploy').find((e) => e.attributes?.['docker.swarm.change'] === 'update')!;
    expect(update.title).toBe('service api updated: image sextant-test/busybox:private -> sextant-test/busybox:next');
    await pollUntil(() => incidents().some((i) => i.status === 'open') && events('rollout').some((e) => e.title.includes('paused')), 'an incident and the paused rollout');
    await runtime.collect();
    const started = events('rollout').find((e) => e.title.includes('started'))!;
    const paused = events('rollout').find((e) => e.title.includes('paused'))!;

    const open = incidents().filter((i) => i.status === 'open');
    expect(open).toHaveLength(1);
    const inc = open[0]!;
    expect(inc.severity).toBe('critical');
    expect(inc.title).toContain('api replicas running');
    // likely cause: the service, because of the image update and the rolling update it started
    const cause = inc.causes[0]!;
    expect(cause.entity).toBe('service:api');
    expect(cause.evidence).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^deploy (\\d+ s before|just after) the first anomaly: ${update.title}$`)), expect.stringMatching(new RegExp(`^rollout (\\d+ s before|just after) the first anomaly: ${started.title}$`))]));
    expect(inc.eventIds).toEqual(expect.arrayContaining([update.id, started.id]));
    // the timeline: the image update before the first anomaly, and the rollout pausing on the failures
    const at = (ref: string | undefined) => inc.timeline.findIndex((t) => t.kind === 'event' && t.ref === ref);
    const firstAnomaly = inc.timeline.findIndex((t) => t.kind === 'anomaly');
    expect(at(update.id)).toBeGreaterThanOrEqual(0);
    expect(at(started.id)).toBeGreaterThanOrEqual(0);
    expect(at(update.id)).toBeLessThan(firstAnomaly);
    expect(inc.timeline.map((t) => t.message)).toContain(paused.title);
    expect(JSON.stringify(inc)).not.toContain('worker');
  }, 240_000);
});
