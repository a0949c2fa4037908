/**
 * rediss:// against a real redis-server with TLS on, with a throw-away CA made by openssl.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findBinary, freePort, needBinary, startCollector, type CollectorHarness } from '@sextant/testkit';
import { redisCollectorFactory } from '../src/index.js';
import { startRedisServer, type RedisServerProcess } from './redis-server-process.js';

let dir = '';
let server: RedisServerProcess | undefined;
const harnesses: CollectorHarness[] = [];

function makeCertificates(openssl: string, into: string): void {
  const run = (...args: string[]) => execFileSync(openssl, args, { cwd: into, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=sextant-test-ca');
  writeFileSync(join(into, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext');
  writeFileSync(join(into, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  run('req', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=sextant');
  run('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '2', '-extfile', 'client.ext');
}

beforeAll(async () => {
  const redis = findBinary('redis-server');
  const openssl = findBinary('openssl');
  if (!redis || !openssl) return; // each test skips (or fails under SEXTANT_REQUIRE_ALL=1) through needBinary
  dir = mkdtempSync(join(tmpdir(), 'sextant-redis-tls-'));
  makeCertificates(openssl, dir);
  const port = await freePort();
  server = await startRedisServer(redis, port, [
    '--port', '0',
    '--tls-port', String(port),
    '--tls-cert-file', join(dir, 'server.crt'),
    '--tls-key-file', join(dir, 'server.key'),
    '--tls-ca-cert-file', join(dir, 'ca.crt'),
    '--tls-auth-clients', 'yes',
  ]);
});

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.shutdown();
});

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function collector(config: Record<string, unknown>): Promise<CollectorHarness> {
  const h = await startCollector(redisCollectorFactory, { config: { url: `rediss://127.0.0.1:${server!.port}`, timeout: '2s', ...config }, intervalMs: 1000 });
  harnesses.push(h);
  return h;
}

describe('redis collector over TLS', () => {
  it('collects over rediss:// with a CA file and a client certificate', async (ctx) => {
    needBinary(ctx, 'redis-server', 'apt-get install redis-server');
    needBinary(ctx, 'openssl', 'apt-get install openssl');
    const h = await collector({ tls: { ca: join(dir, 'ca.crt'), cert: join(dir, 'client.crt'), key: readFileSync(join(dir, 'client.key'), 'utf8') } });
    await h.collect();
    expect(h.lastStatus()?.state).toBe('ok');
    expect(h.sink.last('redis.memory.used')).toBeGreaterThan(0);
  });

  it('refuses a server certificate it cannot verify, with a TLS hint', async (ctx) => {
    needBinary(ctx, 'redis-server', 'apt-get install redis-server');
    needBinary(ctx, 'openssl', 'apt-get install openssl');
    const h = await collector({ tls: { cert: join(dir, 'client.crt'), key: join(dir, 'client.key') } });
    await h.collect();
    const status = h.lastStatus()!;
    expect(status.state).toBe('error');
    expect(status.code).toBe('SEXTANT_ERR_CONNECTION_FAILED');
    expect(status.message).toMatch(/TLS handshake .* failed/);
    expect(status.message).toContain('tls.ca');
  });

  it('is refused by a server that requires a client certificate when none is given', async (ctx) => {
    needBinary(ctx, 'redis-server', 'apt-get install redis-server');
    needBinary(ctx, 'openssl', 'apt-get install openssl');
    const h = await collector({ tls: { ca: join(dir, 'ca.crt') } });
    await h.collect();
    const status = h.lastStatus()!;
    expect(status.state).toBe('error');
    expect(status.code).toBe('SEXTANT_ERR_CONNECTION_FAILED');
    expect(status.message).toMatch(/TLS handshake .* failed \(.*CERTIFICATE_REQUIRED\)/);
    expect(status.message).toContain('set tls.cert and tls.key');
  });
});
