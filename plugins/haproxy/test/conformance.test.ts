/**
 * The collector conformance suite of @sextant/testkit against a private HAProxy stats page.
 */
import { afterAll, beforeAll, it } from 'vitest';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { findBinary, freePort, needCondition } from '@sextant/testkit';
import { haproxyCollectorFactory } from '../src/index.js';
import { startHaproxy } from './haproxy-process.js';

const binary = findBinary('haproxy');
// the port is chosen now (the suite's config names it); HAProxy starts only when a test runs
const port = await freePort();
let server: Awaited<ReturnType<typeof startHaproxy>> | undefined;
beforeAll(async () => {
  if (binary) server = await startHaproxy(binary, `defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\nlisten stats\n  bind 127.0.0.1:${port}\n  stats enable\n  stats uri /stats\n`, port);
});
afterAll(async () => server?.stop());

if (binary) {
  describeCollectorConformance(haproxyCollectorFactory, {
    config: { url: `http://127.0.0.1:${port}/stats` },
    invalid: { config: { url: 'lb:8404/stats' }, path: 'haproxy.url' },
  });
} else {
  it('collector conformance: haproxy', (ctx) => needCondition(ctx, false, 'haproxy is not installed (apt-get install haproxy)'));
}
