/**
 * The collector conformance suite of @sextant/testkit against a private Mosquitto broker.
 */
import { afterAll, beforeAll, it } from 'vitest';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { findBinary, freePort, needCondition } from '@sextant/testkit';
import { mqttCollectorFactory } from '../src/index.js';
import { startMosquitto } from './mosquitto-process.js';

const binary = findBinary('mosquitto');
// the port is chosen now (the suite's config names it); the broker starts only when a test runs
const port = await freePort();
let broker: Awaited<ReturnType<typeof startMosquitto>> | undefined;
beforeAll(async () => {
  if (binary) broker = await startMosquitto(binary, port);
});
afterAll(async () => broker?.stop());

if (binary) {
  describeCollectorConformance(mqttCollectorFactory, {
    config: { url: `mqtt://127.0.0.1:${port}` },
    invalid: { config: { url: 'broker:1883' }, path: 'mqtt.url' },
  });
} else {
  it('collector conformance: mqtt', (ctx) => needCondition(ctx, false, 'mosquitto is not installed (apt-get install mosquitto)'));
}
