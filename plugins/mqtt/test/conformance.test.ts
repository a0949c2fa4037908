/**
 * The collector conformance suite of @sextant/testkit against a private Mosquitto broker.
 */
import { afterAll, it } from 'vitest';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { findBinary, freePort, needCondition } from '@sextant/testkit';
import { mqttCollectorFactory } from '../src/index.js';
import { startMosquitto } from './mosquitto-process.js';

const binary = findBinary('mosquitto');
const broker = binary ? await startMosquitto(binary, await freePort()) : undefined;
afterAll(async () => broker?.stop());

if (broker) {
  describeCollectorConformance(mqttCollectorFactory, {
    config: { url: `mqtt://127.0.0.1:${broker.port}` },
    invalid: { config: { url: 'broker:1883' }, path: 'mqtt.url' },
  });
} else {
  it('collector conformance: mqtt', (ctx) => needCondition(ctx, false, 'mosquitto is not installed (apt-get install mosquitto)'));
}
