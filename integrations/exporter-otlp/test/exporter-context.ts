/** A real OtlpExporter wired to recording testkit parts and a fixed series catalog. */
import { RecordingLogger, RecordingMetrics, resolveConfig, systemClock, type StatusChange } from '@sextant/testkit';
import type { SeriesDescriptor } from '@sextant/plugin-api';
import { OtlpExporter, otlpExporterFactory } from '../src/index.js';

export async function startExporter(series: SeriesDescriptor[], config: Record<string, unknown>, dataDir?: string) {
  const resolved = await resolveConfig(otlpExporterFactory, config);
  const statuses: StatusChange[] = [];
  const metrics = new RecordingMetrics();
  const logger = new RecordingLogger();
  const exporter = new OtlpExporter({
    config: resolved,
    metrics,
    logger,
    instanceId: 'otlp/test',
    clock: systemClock,
    dataDir,
    signal: new AbortController().signal,
    status: { set: (state, message, code) => void statuses.push({ state, message, code }) },
    catalog: { describe: (id) => series[id], size: series.length },
  });
  exporter.start();
  return { exporter, statuses, metrics, logger };
}

/** Polls until `cond` holds (a functional wait with a generous ceiling, not a timing threshold). */
export async function until(cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
