/**
 * Supervision with real processes: a killed child is restarted with growing delays, its instances
 * are re-created, a crash loop ends in quarantine, and another plugin keeps flowing throughout.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, type SextantPlugin } from '@sextant/plugin-api';
import { RecordingLogger, startCollector, type CollectorHarness } from '@sextant/testkit';
import { LocalFactoryRegistry } from '../src/local-registry.js';
import { launchPluginProcess, type RemotePlugin } from '../src/launch.js';
import { PLUGIN_CRASHED_CODE, PLUGIN_QUARANTINED_CODE, type RemotePluginStatus } from '../src/supervisor.js';
import { eventually, fixture, isAlive } from './plugin-child.helpers.js';

async function collectorsOf(plugin: SextantPlugin) {
  const registry = new LocalFactoryRegistry();
  await registry.register(plugin, new RecordingLogger());
  return registry.collectors;
}

const started: RemotePlugin[] = [];
const harnesses: CollectorHarness[] = [];
afterAll(async () => {
  for (const h of harnesses) await h.shutdown().catch(() => undefined);
  for (const r of started) await r.shutdown();
});

describe('supervision', () => {
  it('restarts a child whose collect() killed it and re-creates its instances', async () => {
    const remote = await launchPluginProcess({ pluginModule: fixture('example-plugin.mjs'), displayName: 'example', logger: new RecordingLogger(), restart: { initialDelayMs: 50 } });
    started.push(remote);
    const collectors = await collectorsOf(remote.plugin);
    const counter = await startCollector(collectors.get('example-counter')!, { config: { slots: 1 } });
    const crash = await startCollector(collectors.get('example-crash')!);
    harnesses.push(counter, crash);
    await counter.collect();
    const firstPid = remote.status().pid!;

    await crash.collect(); // the child dies mid-round; the round is skipped, the host carries on
    await eventually(
      () => counter.statuses.some((s) => s.state === 'error' && s.code === PLUGIN_CRASHED_CODE && /exited unexpectedly \(signal SIGKILL\)/.test(s.message ?? '')),
      'every instance of the dead child reports error with the reason',
    );
    await eventually(() => remote.status().state === 'running' && remote.status().restarts === 1, 'the restart');
    expect(remote.status().pid).not.toBe(firstPid);
    expect(isAlive(firstPid)).toBe(false);
    expect(counter.lastStatus()).toMatchObject({ state: 'ok' });

    await counter.collect();
    expect(counter.sink.of('example.value').map((s) => s.value)).toEqual([1, 1]); // a fresh component: round 1 again
    expect(counter.metrics.counters.process_crashes_total).toBe(1);
    expect(counter.metrics.counters.process_restarts_total).toBe(1);
    expect(remote.status()).toMatchObject({ crashes: 1, restarts: 1, quarantined: false });
  });

  it('survives 20 SIGKILLs in a row: restarts with backoff, then quarantine, while another plugin keeps flowing', { timeout: 180_000 }, async () => {
    const statuses: RemotePluginStatus[] = [];
    const logger = new RecordingLogger();
    const remote = await launchPluginProcess({
      pluginModule: fixture('example-plugin.mjs'),
      displayName: 'example',
      logger,
      restart: { initialDelayMs: 25, maxDelayMs: 200, quarantineAfter: 20, windowMs: 600_000 },
      onStatus: (s) => statuses.push(s),
    });
    const other = await launchPluginProcess({ pluginModule: fixture('second-plugin.mjs'), displayName: 'second', logger: new RecordingLogger() });
    started.push(remote, other);
    const counter = await startCollector((await collectorsOf(remote.plugin)).get('example-counter')!, { config: { slots: 1 } });
    const ticker = await startCollector((await collectorsOf(other.plugin)).get('second-ticker')!);
    harnesses.push(counter, ticker);

    let flowing = true;
    const otherLoop = (async () => {
      while (flowing) {
        await ticker.collect();
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    const pids: number[] = [];
    const tickerCounts: number[] = [];
    for (let kill = 1; kill <= 20; kill++) {
      await eventually(() => remote.status().state === 'running', `restart before kill ${kill}`, 30_000);
      await counter.collect(); // the re-created instance works before we kill it again
      const pid = remote.status().pid!;
      expect(pids).not.toContain(pid);
      pids.push(pid);
      process.kill(pid, 'SIGKILL');
      await eventually(() => remote.status().crashes === kill, `crash ${kill} noticed`);
      tickerCounts.push(ticker.sink.of('second.ticks').length);
    }

    const status = remote.status();
    expect(status).toMatchObject({ state: 'quarantined', quarantined: true, crashes: 20, restarts: 19, pid: undefined });
    expect(status.lastError).toMatch(/exited unexpectedly \(signal SIGKILL\)/);
    // Capped exponential backoff: 25, 50, 100, 200, 200, ...
    const delays = statuses.filter((s) => s.state === 'restarting').map((s) => s.nextRestartInMs);
    expect(delays).toEqual([25, 50, 100, ...Array(16).fill(200)]);
    expect(counter.lastStatus()).toMatchObject({ state: 'quarantined', code: PLUGIN_QUARANTINED_CODE, message: expect.stringMatching(/crashed 20 times.*quarantined/) });
    expect(counter.metrics.counters.process_crashes_total).toBe(20);
    expect(counter.metrics.counters.process_restarts_total).toBe(19);
    expect(logger.lines.some((l) => l.level === 'error' && /quarantined/.test(l.message))).toBe(true);

    // No more restarts; collect is a skipped round, not an exception.
    await new Promise((r) => setTimeout(r, 500));
    expect(remote.status().restarts).toBe(19);
    await expect(counter.collect()).resolves.toBeUndefined();
    expect(pids.every((pid) => !isAlive(pid))).toBe(true);
    // New instances are refused with a clear error.
    await expect(startCollector((await collectorsOf(remote.plugin)).get('example-counter')!)).rejects.toMatchObject({ code: ErrorCode.CONFIG_INVALID, message: expect.stringMatching(/quarantined/) });

    // The other plugin flowed the whole time.
    flowing = false;
    await otherLoop;
    for (let i = 1; i < tickerCounts.length; i++) expect(tickerCounts[i]).toBeGreaterThan(tickerCounts[i - 1]);
    expect(other.status()).toMatchObject({ state: 'running', crashes: 0 });
  });
});
