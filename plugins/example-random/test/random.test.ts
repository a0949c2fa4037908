import { describe, expect, it } from 'vitest';
import { startCollector } from '@sextant/testkit';
import { randomCollectorFactory } from '../src/index.js';

describe('example-random collector', () => {
  it('emits one series per stream, the same values for the same seed', async () => {
    const a = await startCollector(randomCollectorFactory, { config: { streams: 4, seed: 7 } });
    const b = await startCollector(randomCollectorFactory, { config: { streams: 4, seed: 7 } });
    for (let i = 0; i < 3; i++) {
      await a.collect();
      await b.collect();
    }
    expect(a.sink.descriptors).toHaveLength(4);
    expect(a.sink.samples.map((s) => s.value)).toEqual(b.sink.samples.map((s) => s.value));
    expect(new Set(a.sink.samples.map((s) => s.value)).size).toBeGreaterThan(4);
    await a.shutdown();
    await b.shutdown();
  });
  it('refuses a config with zero streams, naming the field', async () => {
    await expect(startCollector(randomCollectorFactory, { config: { streams: 0 } })).rejects.toThrow(/random.streams/);
  });
});
