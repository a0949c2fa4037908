/**
 * Configuration of the `mqtt` collector (`collectors: mqtt/<name>:` in sextant.yaml).
 *
 * Secrets: `password` arrives already resolved (the runtime expands `${env:NAME}` and
 * `passwordFile`); this package never logs it or puts it in a status message.
 */
import { z } from 'zod';
import { timeoutDurationMs } from '@sextant/integration-kit';

const brokerUrl = z.string().superRefine((value, ctx) => {
  let url: URL | undefined;
  try {
    url = value.includes('://') ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url) {
    const hostPort = /^[\w.-]+(:\d+)?$/.test(value);
    ctx.addIssue({ code: 'custom', message: `must be an mqtt:// or mqtts:// URL (got ${JSON.stringify(value)})${hostPort ? `; did you mean "mqtt://${value}"?` : ''}` });
    return;
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') ctx.addIssue({ code: 'custom', message: `must use mqtt:// or mqtts://, not ${url.protocol}//` });
  if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'put credentials in username/password, not in the URL' });
});

export const mqttConfigSchema = z
  .object({
    /** The broker, `mqtt://host:1883` or `mqtts://host:8883`. */
    url: brokerUrl,
    username: z.string().min(1).optional(),
    password: z.string().optional(),
    /** Client id of the collector's connection; a random `sextant-…` id when absent. */
    clientId: z.string().min(1).max(128).optional(),
    /** Verify the broker's certificate with mqtts://. */
    rejectUnauthorized: z.boolean(),
    /** Connect timeout, and how long the first round waits for the broker's $SYS values. */
    timeout: timeoutDurationMs,
    /** Extra resource attributes, merged over the computed ones (e.g. `service.name: telemetry-broker`). */
    resource: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  })
  .strict();

export type MqttConfig = z.infer<typeof mqttConfigSchema>;

export const mqttConfigDefaults: Partial<MqttConfig> = {
  url: 'mqtt://127.0.0.1:1883',
  rejectUnauthorized: true,
  timeout: 5000,
  resource: {},
};
