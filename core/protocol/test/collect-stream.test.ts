/**
 * The Collect stream of a plugin child (issue 20): a large round is streamed in bounded messages
 * and delivered whole and in order; a plugin that awaits flush() is paced by the host; the child
 * survives and keeps serving. And the hand-written Collect encoder says exactly what the
 * generated one does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CollectorFactory, SeriesDescriptor, TelemetrySink } from '@sextant/plugin-api';
import { RecordingLogger } from '@sextant/testkit';
import { SAMPLES_PER_MESSAGE } from '../src/child-output.js';
import { encodeCollectResponse } from '../src/collect-wire.js';
import { CollectResponse } from '../src/gen/sextant/plugin/v1/plugin.js';
import { childNodeArgs, launchPluginProcess, type RemotePlugin } from '../src/launch.js';
import { SampleColumnsWriter } from '../src/sample-columns.js';
import { fixture, isAlive } from './plugin-child.helpers.js';

/** Checks every sample as it arrives: value i of the round, on series i % series, in order. */
class CheckingSink implements TelemetrySink {
  received = 0;
  flushes = 0;
  misplaced = 0;
  private readonly hostIds: number[] = [];
  constructor(
    private readonly seriesCount: number,
    /** Host work per flush (a slow pipeline), in busy milliseconds. */
    private readonly slowFlushMs = 0,
  ) {}
  series(descriptor: SeriesDescriptor): number {
    this.hostIds.push(Number(descriptor.attributes.i));
    return this.hostIds.length - 1;
  }
  sample(id: number, value: number): void {
    const i = this.received++;
    if (value !== i || this.hostIds[id] !== i % this.seriesCount) this.misplaced++;
  }
  event(): void {}
  topology(): void {}
  flush(): void {
    this.flushes++;
    if (this.slowFlushMs > 0) {
      const until = performance.now() + this.slowFlushMs;
      while (performance.now() < until);
    }
  }
  nextRound(): void {
    this.received = 0;
    this.flushes = 0;
  }
}

describe('the Collect stream of a plugin child', () => {
  let remote: RemotePlugin;
  let factory: CollectorFactory<unknown>;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    remote = await launchPluginProcess({ pluginModule: fixture('big-round.mjs'), displayName: 'big-round', logger });
    await remote.plugin.register({ collectors: { addFactory: (f: CollectorFactory<unknown>) => (factory = f) } });
  });

  afterAll(async () => {
    await remote?.shutdown();
  });

  /** Creates an instance of the remote big-round collector writing into `sink` and runs `rounds` rounds. */
  async function run(config: Record<string, unknown>, sink: CheckingSink, rounds: number): Promise<{ received: number[]; flushes: number[]; waited: number[] }> {
    const log = new RecordingLogger();
    const collector = await factory.create({
      config: { samples: 200_000, series: 100, mode: 'sync', flushEvery: 1000, ...config },
      instanceId: `big-round/${String(config.mode)}`,
      logger: log,
      clock: { now: () => Date.now(), setTimeout: (fn: () => void, ms: number) => { const t = setTimeout(fn, ms); return () => clearTimeout(t); } },
      status: { set() {} },
      metrics: { counter: () => ({ add() {} }), gauge: () => ({ set() {} }) },
      signal: new AbortController().signal,
      dataDir: undefined,
      sink,
      hostResource: {},
      intervalMs: 10_000,
    });
    await collector.start?.();
    const received: number[] = [];
    const flushes: number[] = [];
    for (let r = 0; r < rounds; r++) {
      sink.nextRound();
      await collector.collect!(new AbortController().signal);
      received.push(sink.received);
      flushes.push(sink.flushes);
    }
    await collector.shutdown();
    const waited = log.lines.filter((l) => l.message === 'round written').map((l) => (l.fields as { waited: number }).waited);
    return { received, flushes, waited };
  }

  it('delivers a 200k-sample round written in one synchronous loop whole and in order, in bounded messages, and the child lives on', async () => {
    const pid = remote.status().pid!;
    const sink = new CheckingSink(100);
    const { received, flushes } = await run({ samples: 200_000, series: 100, mode: 'sync' }, sink, 2);
    expect(received).toEqual([200_000, 200_000]);
    expect(sink.misplaced).toBe(0);
    // Streamed, not one 4 MB message: at least one message per SAMPLES_PER_MESSAGE samples.
    for (const n of flushes) expect(n).toBeGreaterThanOrEqual(Math.ceil(200_000 / SAMPLES_PER_MESSAGE));
    expect(remote.status()).toMatchObject({ state: 'running', pid, crashes: 0 });
    expect(isAlive(pid)).toBe(true);
  });

  it('lets a plugin with a large heap (2 x 64 MiB held) run under the default child flags', async () => {
    const pid = remote.status().pid!;
    const sink = new CheckingSink(10);
    const { received } = await run({ samples: 10_000, series: 10, mode: 'sync', holdMiB: 64 }, sink, 2);
    expect(received).toEqual([10_000, 10_000]);
    expect(sink.misplaced).toBe(0);
    expect(remote.status()).toMatchObject({ state: 'running', pid, crashes: 0 });
  });

  it('paces a plugin that awaits flush() by a slow host, and loses nothing', async () => {
    const sink = new CheckingSink(7, 2);
    const { received, waited } = await run({ samples: 100_000, series: 7, mode: 'await', flushEvery: 1000 }, sink, 1);
    expect(received).toEqual([100_000]);
    expect(sink.misplaced).toBe(0);
    // flush() made the plugin wait for the stream at least once (the host takes 2 ms per message).
    expect(waited).toHaveLength(1);
    expect(waited[0]).toBeGreaterThan(0);
    expect(remote.status().state).toBe('running');
  });
});

describe('the default node flags of a plugin child', () => {
  it('are added unless the launch sets the same flag', () => {
    expect(childNodeArgs(undefined)).toEqual(['--max-semi-space-size=1', '--optimize-for-size']);
    expect(childNodeArgs(['--max-old-space-size=64'])).toEqual(['--max-semi-space-size=1', '--optimize-for-size', '--max-old-space-size=64']);
    expect(childNodeArgs(['--max-semi-space-size=8', '--no-optimize-for-size'])).toEqual(['--max-semi-space-size=8', '--no-optimize-for-size']);
  });
});

describe('the Collect encoder', () => {
  it('encodes what the generated decoder reads back, with and without samples and other fields', () => {
    const columns = new SampleColumnsWriter();
    for (let i = 0; i < 1000; i++) columns.push(i % 13, i === 7 ? Number.NaN : 1_700_000_000_000 + i, i * 0.5 - 3);
    const samples = columns.take();
    const base = CollectResponse.decode(new Uint8Array(0));
    const cases: CollectResponse[] = [
      { ...base, samples },
      { ...base, samples, completesRound: 42, series: [{ id: 3, descriptor: { metric: 'm', unit: '1', type: 'gauge', resource: { a: { stringValue: 'x' } as never }, attributes: {} } as never }] },
      { ...base, completesRound: 7, logs: [{ level: 2, message: 'hello', fieldsJson: '{"a":1}' }] },
      { ...base, samples: { count: 0, series: Buffer.alloc(0), timestamps: Buffer.alloc(0), values: Buffer.alloc(0) } },
    ];
    for (const message of cases) {
      const ours = CollectResponse.decode(Buffer.from(encodeCollectResponse(message)));
      const generated = CollectResponse.decode(CollectResponse.encode(message).finish());
      expect(ours).toEqual(generated);
    }
    const back = CollectResponse.decode(Buffer.from(encodeCollectResponse(cases[0]!)));
    expect(back.samples!.count).toBe(1000);
    expect(Buffer.from(back.samples!.values)).toEqual(Buffer.from(samples.values));
  });
});
