/**
 * A manager reached over TCP with TLS (what `dockerd --tlsverify -H tcp://0.0.0.0:2376` serves):
 * the stand-in manager on 127.0.0.1 over HTTPS with a certificate made by openssl for the test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '@sextant/plugin-api';
import { needBinary, startCollector } from '@sextant/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordedSwarmEngine, SWARM_METRICS, swarmCollectorFactory } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sextant-swarm-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function certificate(openssl: string, name: string): { key: string; cert: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  execFileSync(openssl, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { key, cert };
}

describe('swarm plugin over TCP with TLS', () => {
  it('reads the manager over HTTPS when the CA is given, and refuses an engine it cannot verify', async (ctx) => {
    const openssl = needBinary(ctx, 'openssl', 'apt-get install openssl');
    const server = certificate(openssl, 'engine');
    const other = certificate(openssl, 'other');
    const engine = new RecordedSwarmEngine({ nodes: 1, services: 2, tasksPerService: 2 }, { tls: { key: readFileSync(server.key, 'utf8'), cert: readFileSync(server.cert, 'utf8') } });
    await engine.start();
    try {
      const good = await startCollector(swarmCollectorFactory, { config: { host: engine.tcpEndpoint, tls: { ca: server.cert } } });
      await good.collect();
      expect(good.lastStatus()).toMatchObject({ state: 'ok', message: expect.stringContaining('2 services') });
      expect(good.sink.of(SWARM_METRICS.serviceRunning.metric).map((s) => s.value)).toEqual([2, 2]);
      await good.shutdown();

      const bad = await startCollector(swarmCollectorFactory, { config: { host: engine.tcpEndpoint, tls: { ca: other.cert } } });
      await bad.collect();
      expect(bad.lastStatus()).toMatchObject({ state: 'error', code: ErrorCode.AUTH_FAILED, message: expect.stringContaining('does not verify') });
      expect(bad.sink.samples).toEqual([]);
      await bad.shutdown();
    } finally {
      await engine.stop();
    }
  });

  it('names an unreadable TLS file as a config error', async () => {
    await expect(startCollector(swarmCollectorFactory, { config: { host: 'tcp://127.0.0.1:2376', tls: { ca: join(dir, 'missing.pem') } } })).rejects.toThrow(/tls\.ca: cannot read/);
  });
});
