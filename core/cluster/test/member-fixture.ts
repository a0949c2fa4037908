/** Members for tests: a real runtime (with the analysis plugin) joined to a group on a test Redis. */
import analysisPlugin from '@sextant/analysis/plugin';
import type { SeriesDescriptor } from '@sextant/plugin-api';
import { seriesKey } from '@sextant/runtime';
import { startTestRuntime, type TestRuntime } from '@sextant/testkit';
import { ClusterMember, type ClusterMemberOptions } from '../src/index.js';

export interface TestMember {
  readonly rt: TestRuntime;
  readonly member: ClusterMember;
  /** Samples accepted by this member's pipeline, per canonical series key. */
  readonly acceptedPerSeries: Map<string, number>;
  /** Sends samples as an agent would through this member's IngestServer (series announced first). */
  send(source: string, samples: readonly { descriptor: SeriesDescriptor; t: number; v: number }[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startMember(
  url: string,
  memberId: string,
  options: Partial<Omit<ClusterMemberOptions, 'runtime' | 'store'>> = {},
): Promise<TestMember> {
  const rt = await startTestRuntime({ plugins: [analysisPlugin], config: { detectors: {}, correlators: {} } });
  const member = await ClusterMember.start({
    runtime: rt.runtime,
    store: url,
    detectors: options.detectors ?? {},
    memberId,
    // Generous: the test machine is shared and a starved process can stall for seconds.
    leaseMs: 10_000,
    heartbeatMs: 500,
    checkpointMs: 1000,
    pollMs: 20,
    ...options,
  });
  const acceptedPerSeries = new Map<string, number>();
  rt.runtime.pipeline.observe((batch, registry) => {
    for (let i = 0; i < batch.length; i++) {
      const key = seriesKey(registry.describe(batch.series[i])!);
      acceptedPerSeries.set(key, (acceptedPerSeries.get(key) ?? 0) + 1);
    }
  });
  const localIds = new Map<string, number>();
  return {
    rt,
    member,
    acceptedPerSeries,
    async send(source, samples) {
      const n = samples.length;
      const batch = { length: 0, series: new Uint32Array(n), timestamps: new Float64Array(n), values: new Float64Array(n) };
      for (const s of samples) {
        const key = `${source}\u0000${seriesKey(s.descriptor)}`;
        let id = localIds.get(key);
        if (id === undefined) {
          const assigned = member.ingestHandler.onSeries(source, localIds.size, s.descriptor);
          if (assigned === null) continue;
          localIds.set(key, (id = assigned));
        }
        batch.series[batch.length] = id;
        batch.timestamps[batch.length] = s.t;
        batch.values[batch.length] = s.v;
        batch.length++;
      }
      await member.ingestHandler.onBatch(source, batch);
    },
    async stop() {
      await member.stop();
      await rt.stop();
    },
  };
}
