/**
 * Configuration of one `prometheus-remote-write` exporter instance
 * (`exporters.prometheus-remote-write/<name>` in sextant.yaml).
 */
import { durationMs as kitDurationMs } from '@sextant/plugin-kit';
import picomatch from 'picomatch';
import { z } from 'zod';

/** A duration in whole milliseconds, more than 0, at most `max` (the kit's one schema). */
const durationMs = (max: number) => kitDurationMs({ min: 1, max });

const httpUrl = z.string().superRefine((value, ctx) => {
  let ok = false;
  try {
    const u = new URL(value);
    ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    ok = false;
  }
  if (!ok) ctx.addIssue({ code: 'custom', message: `must be an http(s) URL (got ${JSON.stringify(value)}), e.g. "http://127.0.0.1:9090/api/v1/write"` });
});

const namePattern = z.string().superRefine((value, ctx) => {
  try {
    if (value.startsWith('/') && value.endsWith('/') && value.length >= 2) new RegExp(value.slice(1, -1));
    else if (value.length === 0) throw new Error('a pattern must not be empty');
    else picomatch(value);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `is not a valid glob or /regex/: ${(e as Error).message}` });
  }
});

export const remoteWriteConfigSchema = z
  .object({
    /** The receiver's remote-write endpoint. */
    url: httpUrl,
    /** Send the samples of selected series themselves. */
    samples: z.boolean(),
    /** Send sextant_expected, sextant_band_lower, sextant_band_upper and sextant_learning_state for selected series. */
    signals: z.boolean(),
    /** Send sextant_anomaly_score for anomalies on selected series. */
    anomalies: z.boolean(),
    /** Globs or /regexes/ of Sextant metric names to select (empty: all). */
    keep: z.array(namePattern),
    /** Globs or /regexes/ of Sextant metric names to leave out. */
    drop: z.array(namePattern),
    /** Labels added to every series sent (Prometheus' external_labels). */
    externalLabels: z.record(z.string(), z.string()),
    /** Most samples in one request. */
    maxSamplesPerSend: z.number().int().min(1).max(100_000),
    /** Per-request timeout. */
    timeout: durationMs(600_000),
    /** Retry backoff after 5xx, 429 or a network error: doubles from `initial` up to `max`, with jitter. */
    backoff: z.object({ initial: durationMs(600_000), max: durationMs(3_600_000) }).strict(),
    /** The queue of requests not yet accepted by the receiver. */
    queue: z
      .object({
        /** Directory of the on-disk queue; default `<instance data dir>/queue`. Without either, the queue is in memory. */
        dir: z.string().min(1).optional(),
        /** Most bytes queued; beyond it the oldest requests are dropped and counted. */
        maxBytes: z.number().int().min(1 << 20),
        /** Size of one segment file. */
        segmentBytes: z.number().int().min(64 << 10),
      })
      .strict(),
    bearerToken: z.string().min(1).optional(),
    bearerTokenFile: z.string().min(1).optional(),
    basicAuth: z.object({ username: z.string(), password: z.string().optional(), passwordFile: z.string().min(1).optional() }).strict().optional(),
    headers: z.record(z.string(), z.string()),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.backoff.initial > c.backoff.max) ctx.addIssue({ code: 'custom', path: ['backoff', 'initial'], message: 'must not be above backoff.max' });
    if (c.queue.segmentBytes * 2 > c.queue.maxBytes) ctx.addIssue({ code: 'custom', path: ['queue', 'segmentBytes'], message: 'must be at most half of queue.maxBytes' });
    if ([c.bearerToken, c.bearerTokenFile, c.basicAuth].filter((v) => v !== undefined).length > 1) ctx.addIssue({ code: 'custom', message: 'use only one of bearerToken, bearerTokenFile and basicAuth' });
  });

export type RemoteWriteConfig = z.output<typeof remoteWriteConfigSchema>;

export const remoteWriteConfigDefaults: Partial<RemoteWriteConfig> = {
  samples: true,
  signals: true,
  anomalies: true,
  keep: [],
  drop: [],
  externalLabels: {},
  maxSamplesPerSend: 5000,
  timeout: 30_000,
  backoff: { initial: 500, max: 30_000 },
  queue: { maxBytes: 256 << 20, segmentBytes: 8 << 20 },
  headers: {},
};
