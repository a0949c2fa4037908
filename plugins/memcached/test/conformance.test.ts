/**
 * The collector conformance suite of @sextant/testkit against a private memcached.
 */
import { afterAll, it } from 'vitest';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { findBinary, freePort, needCondition } from '@sextant/testkit';
import { memcachedCollectorFactory } from '../src/index.js';
import { startMemcached } from './memcached-process.js';

const binary = findBinary('memcached');
const server = binary ? await startMemcached(binary, await freePort()) : undefined;
afterAll(async () => server?.stop());

if (server) {
  describeCollectorConformance(memcachedCollectorFactory, {
    config: { endpoint: `127.0.0.1:${server.port}` },
    invalid: { config: { endpoint: 'memcached://cache:11211' }, path: 'memcached.endpoint' },
  });
} else {
  it('collector conformance: memcached', (ctx) => needCondition(ctx, false, 'memcached is not installed (apt-get install memcached)'));
}
