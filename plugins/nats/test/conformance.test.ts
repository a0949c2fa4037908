/**
 * The collector conformance suite of @sextant/testkit against a private nats-server.
 */
import { afterAll, beforeAll, it } from 'vitest';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { findBinary, freePort, needCondition } from '@sextant/testkit';
import { natsCollectorFactory } from '../src/index.js';
import { startNatsServer } from './nats-server-process.js';

const binary = findBinary('nats-server');
// the ports are chosen now (the suite's config names one); the server starts only when a test runs
const clientPort = await freePort();
const monitorPort = await freePort();
let server: Awaited<ReturnType<typeof startNatsServer>> | undefined;
beforeAll(async () => {
  if (binary) server = await startNatsServer(binary, clientPort, monitorPort);
});
afterAll(async () => server?.stop());

if (binary) {
  describeCollectorConformance(natsCollectorFactory, {
    config: { url: `http://127.0.0.1:${monitorPort}` },
    invalid: { config: { url: 'nats://bus:4222' }, path: 'nats.url' },
  });
} else {
  it('collector conformance: nats', (ctx) => needCondition(ctx, false, 'nats-server is not installed (apt-get install nats-server)'));
}
