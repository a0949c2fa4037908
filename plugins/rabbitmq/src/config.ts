/**
 * Configuration of the `rabbitmq` collector (`collectors: rabbitmq/<name>:` in sextant.yaml).
 *
 * Secrets: `password` arrives already resolved (the runtime expands `${env:NAME}` and
 * `passwordFile`); this package never logs it or puts it in a status message.
 */
import { z } from 'zod';
import { timeoutDurationMs } from '@sextant/integration-kit';

const managementUrl = z.string().superRefine((value, ctx) => {
  let url: URL | undefined;
  try {
    url = value.includes('://') ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url) {
    const hostPort = /^[\w.-]+(:\d+)?$/.test(value);
    ctx.addIssue({ code: 'custom', message: `must be the http(s):// URL of the management plugin (got ${JSON.stringify(value)})${hostPort ? `; did you mean "http://${value}"?` : ''}` });
    return;
  }
  if (url.protocol === 'amqp:' || url.protocol === 'amqps:') {
    ctx.addIssue({ code: 'custom', message: `must be the management HTTP API (port 15672), not AMQP; did you mean "http://${url.hostname}:15672"?` });
  } else if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `must use http:// or https://, not ${url.protocol}//` });
  }
  if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'put credentials in username/password, not in the URL' });
});

export const rabbitmqConfigSchema = z
  .object({
    /** The management plugin, e.g. `http://127.0.0.1:15672`. */
    url: managementUrl,
    /** A user with the `monitoring` tag. */
    username: z.string().min(1),
    password: z.string(),
    /** At most this many queues (largest first) get per-queue series; the rest are counted. */
    maxQueues: z.number().int().min(0).max(100_000),
    /** Connect + reply timeout of each API request. */
    timeout: timeoutDurationMs,
    rejectUnauthorized: z.boolean(),
    /** Extra resource attributes, merged over the computed ones (e.g. `service.name: orders-queue`). */
    resource: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  })
  .strict();

export type RabbitmqConfig = z.infer<typeof rabbitmqConfigSchema>;

export const rabbitmqConfigDefaults: Partial<RabbitmqConfig> = {
  url: 'http://127.0.0.1:15672',
  username: 'guest',
  password: 'guest',
  maxQueues: 200,
  timeout: 5000,
  rejectUnauthorized: true,
  resource: {},
};
