/**
 * Configuration of the `nats` collector (`collectors: nats/<name>:` in sextant.yaml).
 */
import { z } from 'zod';
import { timeoutDurationMs } from '@sextant/integration-kit';

const monitorUrl = z.string().superRefine((value, ctx) => {
  let url: URL | undefined;
  try {
    url = value.includes('://') ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url) {
    const hostPort = /^[\w.-]+(:\d+)?$/.test(value);
    ctx.addIssue({ code: 'custom', message: `must be the http:// URL of the monitoring port (got ${JSON.stringify(value)})${hostPort ? `; did you mean "http://${value}"?` : ''}` });
    return;
  }
  if (url.protocol === 'nats:') {
    ctx.addIssue({ code: 'custom', message: `must be the HTTP monitoring port (nats-server -m 8222), not the client port; did you mean "http://${url.hostname}:8222"?` });
  } else if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `must use http:// or https://, not ${url.protocol}//` });
  }
});

export const natsConfigSchema = z
  .object({
    /** The monitoring endpoint (`nats-server -m 8222` / `http_port`), e.g. `http://127.0.0.1:8222`. */
    url: monitorUrl,
    /** Read /jsz for JetStream usage, stream depth and consumer lag. */
    jetstream: z.boolean(),
    /** At most this many streams + consumers become series; the rest are counted. */
    maxJetstreamSeries: z.number().int().min(1).max(100_000),
    /** Connect + reply timeout of each monitoring request. */
    timeout: timeoutDurationMs,
    /** Extra resource attributes, merged over the computed ones (e.g. `service.name: events-bus`). */
    resource: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  })
  .strict();

export type NatsConfig = z.infer<typeof natsConfigSchema>;

export const natsConfigDefaults: Partial<NatsConfig> = {
  url: 'http://127.0.0.1:8222',
  jetstream: true,
  maxJetstreamSeries: 1000,
  timeout: 5000,
  resource: {},
};
