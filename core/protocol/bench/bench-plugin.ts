/**
 * The synthetic plugin the benchmark runs as a child: `bench-stream` writes `samplesPerRound`
 * samples per collect round over `series` series, flushing every `batch` samples.
 */
import { collectorsExtensionPoint, createCollectorFactory, createPlugin, type StandardSchemaV1 } from '@sextant/plugin-api';

interface BenchStreamConfig {
  readonly batch: number;
  readonly samplesPerRound: number;
  readonly series: number;
}

/** A hand-written Standard Schema, so the child loads no validation library. */
const benchStreamSchema: StandardSchemaV1<unknown, BenchStreamConfig> = {
  '~standard': {
    version: 1,
    vendor: 'sextant-bench',
    validate(value) {
      const v = value as Partial<BenchStreamConfig>;
      const issues = (['batch', 'samplesPerRound', 'series'] as const)
        .filter((k) => !Number.isInteger(v?.[k]) || (v[k] as number) < 1)
        .map((k) => ({ message: 'must be a positive integer', path: [k] }));
      return issues.length ? { issues } : { value: v as BenchStreamConfig };
    },
  },
};

export default createPlugin({
  pluginId: 'bench',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(
      createCollectorFactory<BenchStreamConfig>({
        type: 'bench-stream',
        stability: 'development',
        description: 'Synthetic sample stream for the protocol benchmark.',
        configSchema: benchStreamSchema,
        defaults: { batch: 1000, samplesPerRound: 100_000, series: 1000 },
        create(ctx) {
          const ids = new Uint32Array(ctx.config.series);
          for (let i = 0; i < ids.length; i++) {
            ids[i] = ctx.sink.series({ metric: 'bench.value', unit: '1', type: 'gauge', resource: { 'service.name': 'bench' }, attributes: { i } });
          }
          let t = Date.UTC(2026, 0, 1);
          return {
            async collect() {
              const { batch, samplesPerRound } = ctx.config;
              for (let written = 0; written < samplesPerRound; ) {
                const n = Math.min(batch, samplesPerRound - written);
                for (let j = 0; j < n; j++, written++) ctx.sink.sample(ids[written % ids.length], written, t++);
                // In a plugin process flush() settles once the Collect stream takes more: awaiting it
                // paces this loop by the host, so the child's buffers stay small.
                await ctx.sink.flush();
              }
            },
            shutdown() {},
          };
        },
      }),
    );
  },
});
