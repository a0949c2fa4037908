/**
 * The collector conformance suite of @sextant/testkit against a private nats-server.
 */
import { afterAll, it } from 'vitest';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { findBinary, freePort, needCondition } from '@sextant/testkit';
import { natsCollectorFactory } from '../src/index.js';
import { startNatsServer } from './nats-server-process.js';

const binary = findBinary('nats-server');
const server = binary ? await startNatsServer(binary, await freePort(), await freePort()) : undefined;
afterAll(async () => server?.stop());

if (server) {
  describeCollectorConformance(natsCollectorFactory, {
    config: { url: `http://127.0.0.1:${server.monitorPort}` },
    invalid: { config: { url: 'nats://bus:4222' }, path: 'nats.url' },
  });
} else {
  it('collector conformance: nats', (ctx) => needCondition(ctx, false, 'nats-server is not installed (apt-get install nats-server)'));
}
