/**
 * The collector conformance suite of @sextant/testkit against a private memcached.
 */
import { afterAll, beforeAll, it } from 'vitest';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { findBinary, freePort, needCondition } from '@sextant/testkit';
import { memcachedCollectorFactory } from '../src/index.js';
import { startMemcached } from './memcached-process.js';

const binary = findBinary('memcached');
// the port is chosen now (the suite's config names it); the server starts only when a test runs
const port = await freePort();
let server: Awaited<ReturnType<typeof startMemcached>> | undefined;
beforeAll(async () => {
  if (binary) server = await startMemcached(binary, port);
});
afterAll(async () => server?.stop());

if (binary) {
  describeCollectorConformance(memcachedCollectorFactory, {
    config: { endpoint: `127.0.0.1:${port}` },
    invalid: { config: { endpoint: 'memcached://cache:11211' }, path: 'memcached.endpoint' },
  });
} else {
  it('collector conformance: memcached', (ctx) => needCondition(ctx, false, 'memcached is not installed (apt-get install memcached)'));
}
