/**
 * The collector conformance suite of @sextant/testkit against a private HAProxy stats page.
 */
import { afterAll, it } from 'vitest';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { findBinary, freePort, needCondition } from '@sextant/testkit';
import { haproxyCollectorFactory } from '../src/index.js';
import { startHaproxy } from './haproxy-process.js';

const binary = findBinary('haproxy');
const port = await freePort();
const server = binary ? await startHaproxy(binary, `defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\nlisten stats\n  bind 127.0.0.1:${port}\n  stats enable\n  stats uri /stats\n`, port) : undefined;
afterAll(async () => server?.stop());

if (server) {
  describeCollectorConformance(haproxyCollectorFactory, {
    config: { url: `http://127.0.0.1:${port}/stats` },
    invalid: { config: { url: 'lb:8404/stats' }, path: 'haproxy.url' },
  });
} else {
  it('collector conformance: haproxy', (ctx) => needCondition(ctx, false, 'haproxy is not installed (apt-get install haproxy)'));
}
