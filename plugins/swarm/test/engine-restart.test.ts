/**
 * The engine restarted mid-stream, for real: a private dockerd of the test's own (the machine's
 * engine is never restarted) in a single-node swarm, stopped and started again while the plugin
 * follows it. Nothing may be lost or repeated: the events before the restart arrive once, the ones
 * after it arrive once, and the plugin reports ok again without help.
 */
import { needBinary, needCondition, startCollector, type CollectorHarness } from '@sextant/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { SWARM_METRICS, swarmCollectorFactory, type SwarmCollector } from '../src/index.js';
import { PrivateDockerd } from './fixtures/private-dockerd.js';

let engine: PrivateDockerd | undefined;
let h: CollectorHarness | undefined;

afterAll(async () => {
  await h?.shutdown();
  await engine?.destroy();
}, 120_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('swarm plugin across an engine restart', () => {
  it('reconnects after dockerd restarts, with no event lost or repeated', async (ctx) => {
    const dockerd = needBinary(ctx, 'dockerd', 'apt-get install docker.io');
    needCondition(ctx, process.getuid?.() === 0, 'starting a private dockerd needs root');
    engine = new PrivateDockerd(dockerd);
    await engine.start();
    await engine.initSwarm();
    const image = engine.importImage();
    const svc = (name: string, replicas: number) => engine!.docker('service', 'create', '-d', '--no-resolve-image', '--name', name, '--replicas', String(replicas), '--network', 'host', '--stop-grace-period', '0s', image, 'sleep', '3600');
    h = await startCollector(swarmCollectorFactory, { config: { socket: engine.socketPath, maxBackoff: '500ms' } });
    const harness = h;
    const pollUntil = async (condition: () => boolean, what: string, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await harness.collect();
        if (condition()) return;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; status ${JSON.stringify(harness.lastStatus())}`);
        await sleep(250);
      }
    };
    const running = (name: string) => harness.sink.last(SWARM_METRICS.serviceRunning.metric, { 'service.name': name });
    const of = (name: string, type: string) => harness.sink.events.filter((e) => e.resource['service.name'] === name && e.type === type);

    svc('api', 1);
    await pollUntil(() => running('api') === 1 && of('api', 'deploy').length === 1, 'api running, its create event seen');
    engine.docker('service', 'scale', '-d', 'api=2');
    await pollUntil(() => of('api', 'scale').length === 1, 'scale before the restart');

    await engine.stop();
    await harness.collect();
    expect(harness.lastStatus()?.state).toBe('error');
    await engine.start();

    engine.docker('service', 'scale', '-d', 'api=3');
    svc('web', 1);
    await pollUntil(() => of('api', 'scale').length >= 2 && of('web', 'deploy').length >= 1 && running('web') === 1, 'events after the restart', 90_000);
    await pollUntil(() => harness.lastStatus()?.state === 'ok', 'ok again');
    expect(of('api', 'scale').map((e) => e.title)).toEqual(['service api scaled 1 -> 2 replicas', 'service api scaled 2 -> 3 replicas']);
    expect(of('api', 'deploy')).toHaveLength(1);
    expect(of('web', 'deploy')).toHaveLength(1);
    expect(new Set(harness.sink.events.map((e) => e.id)).size).toBe(harness.sink.events.length);
    expect((harness.collector as SwarmCollector).eventStream!.reconnects).toBeGreaterThanOrEqual(1);
    await pollUntil(() => running('api') === 3, 'api back to 3 replicas after the restart');
  }, 180_000);
});
