import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '@sextant/testkit';
import { describe, expect, it } from 'vitest';
import { engineEndpoint, swarmCollectorFactory, type SwarmConfig } from '../src/index.js';

const config = (input: Record<string, unknown>) => resolveConfig<SwarmConfig>(swarmCollectorFactory, input);

describe('swarm configuration', () => {
  it('lists every problem with its path', async () => {
    const error = await config({ failureWindow: 'soon', events: 'both', failureThreshold: 0 }).catch((e: Error) => e.message);
    expect(error).toContain('swarm.failureWindow: must be a duration');
    expect(error).toContain('swarm.events:');
    expect(error).toContain('swarm.failureThreshold:');
  });

  it('refuses socket and host together', async () => {
    await expect(config({ socket: '/run/docker.sock', host: 'tcp://10.0.0.5:2376' })).rejects.toThrow('swarm.host: set either socket or host');
  });

  it('refuses tls without host', async () => {
    await expect(config({ tls: { ca: '/ca.pem' } })).rejects.toThrow('tls: tls needs host');
  });

  it('finds the engine like the Docker CLI: socket, DOCKER_HOST unix or tcp with its TLS files', async () => {
    const defaults = await config({});
    expect(engineEndpoint(defaults, {})).toBe('/var/run/docker.sock');
    expect(engineEndpoint(await config({ socket: 'unix:///run/user/1000/docker.sock' }), {})).toBe('/run/user/1000/docker.sock');
    expect(engineEndpoint(defaults, { DOCKER_HOST: 'unix:///run/podman/podman.sock' })).toBe('/run/podman/podman.sock');
    expect(engineEndpoint(defaults, { DOCKER_HOST: 'tcp://127.0.0.1:2375' })).toEqual({ host: '127.0.0.1', port: 2375 });
    const certs = mkdtempSync(join(tmpdir(), 'sextant-docker-certs-'));
    try {
      for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(certs, f), `${f} contents`);
      expect(engineEndpoint(defaults, { DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs })).toEqual({
        host: '127.0.0.1',
        port: 2376,
        tls: { ca: 'ca.pem contents', cert: 'cert.pem contents', key: 'key.pem contents' },
      });
    } finally {
      rmSync(certs, { recursive: true, force: true });
    }
    // A configured socket wins over DOCKER_HOST.
    expect(engineEndpoint(await config({ socket: '/x.sock' }), { DOCKER_HOST: 'tcp://127.0.0.1:2375' })).toBe('/x.sock');
  });
});
