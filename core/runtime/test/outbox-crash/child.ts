/**
 * A Sextant runtime in its own process for the crash test: a dataDir, the http-post notifier
 * pointing at the test's receiver, the system clock. With OUTBOX_PUBLISH=n it publishes n updates
 * round-robin over three incidents after start and prints `published n`; it then runs until killed.
 */
import 'reflect-metadata';
import { Runtime, validateRuntimeConfig } from '@sextant/runtime';
import { incidentUpdate, notifierPlugin } from '../outbox-support.js';

const loaded = validateRuntimeConfig({
  dataDir: process.env.OUTBOX_DATA_DIR,
  plugins: { discover: false },
  server: { enabled: false },
  notifiers: { 'http-post/ops': { url: process.env.OUTBOX_RECEIVER_URL } },
  notifications: { backoff: { initial: '20ms', max: '100ms' } },
});
if (!loaded.config) throw new Error(JSON.stringify(loaded.issues));
const runtime = await Runtime.load({
  config: loaded.config,
  builtins: [{ plugin: notifierPlugin, packageName: 'test:outbox', version: '0.0.0' }],
  log: { level: 'warn' },
  hostResource: { 'host.name': 'crash-test' },
});
const problems = await runtime.start();
if (problems.length) throw new Error(JSON.stringify(problems));
await runtime.dispatcher.ready();
process.stdout.write(`ready restored=${runtime.telemetry.value('sextant_outbox_restored_total')}\n`);
const count = Number(process.env.OUTBOX_PUBLISH ?? 0);
const incidents = ['crash-a', 'crash-b', 'crash-c'];
for (let i = 0; i < count; i++) {
  runtime.pipeline.publishIncident(incidentUpdate(incidents[i % 3], Math.floor(i / 3) + 1));
}
if (count) process.stdout.write(`published ${count}\n`);
setInterval(() => {}, 1 << 30);
