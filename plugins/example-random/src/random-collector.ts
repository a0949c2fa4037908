import { z } from 'zod';
import { createCollectorFactory, type SeriesId } from '@sextant/plugin-api';

export const randomConfigSchema = z.object({
  /** How many independent walks (series) to emit. */
  streams: z.number().int().min(1).max(10_000),
  /** Seed of the generator: the same seed gives the same values, in any isolation mode. */
  seed: z.number().int(),
  /** Largest step of the walk per collection. */
  step: z.number().positive(),
  /** `service.name` of the series' resource. */
  service: z.string().min(1),
});
export type RandomConfig = z.infer<typeof randomConfigSchema>;

/** mulberry32: a tiny deterministic PRNG (public-domain algorithm). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const randomCollectorFactory = createCollectorFactory<RandomConfig>({
  type: 'random',
  stability: 'development',
  description: 'Emits deterministic random walks (example.random.value), one series per stream.',
  configSchema: randomConfigSchema,
  defaults: { streams: 3, seed: 42, step: 1, service: 'example-random' },
  create(ctx) {
    const next = prng(ctx.config.seed);
    const values = new Float64Array(ctx.config.streams).fill(50);
    let ids: SeriesId[] | undefined;
    return {
      collect() {
        ids ??= Array.from({ length: ctx.config.streams }, (_, i) =>
          ctx.sink.series({
            metric: 'example.random.value',
            unit: '1',
            type: 'gauge',
            description: 'A random walk',
            resource: { ...ctx.hostResource, 'service.name': ctx.config.service },
            attributes: { stream: i },
          }),
        );
        for (let i = 0; i < values.length; i++) {
          values[i] += (next() * 2 - 1) * ctx.config.step;
          ctx.sink.sample(ids[i], values[i]);
        }
      },
      shutdown() {},
    };
  },
});
