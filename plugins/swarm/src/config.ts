/** Configuration of the `swarm` collector (zod v4). Defaults live in {@link swarmDefaults}. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import { durationMs as durationField } from '@sextant/plugin-kit';
import { resolveEngineSocket, type EngineEndpoint } from '@sextant/docker-engine';
import { join } from 'node:path';

/** A duration as milliseconds (number) or text (`500ms`, `10s`, `5m`), longer than 0. */
const duration = durationField({ min: 1 });

export const swarmConfigSchema = z
  .object({
    /** Engine API unix socket. Unset (and no `host`): `DOCKER_HOST` when it is `unix://...`, else /var/run/docker.sock. */
    socket: z.string().min(1).optional(),
    /** A manager's TCP endpoint instead of the socket: `tcp://10.0.0.5:2376`. */
    host: z.string().regex(/^tcp:\/\/[^/]+:\d+$/, 'must look like tcp://HOST:PORT').optional(),
    /** TLS for `host` (as `dockerd --tlsverify` needs): PEM file paths. */
    tls: z.object({ ca: z.string().min(1), cert: z.string().min(1).optional(), key: z.string().min(1).optional() }).optional(),
    /**
     * Where change events come from. `stream`: the engine's /events (with catch-up after a
     * reconnect), falling back to poll differences when the engine refuses the stream. `poll`:
     * differences between polls only.
     */
    events: z.enum(['stream', 'poll']),
    /**
     * Who reports cluster-level state (services, tasks, nodes, their topology and events).
     * `leader`: only the agent whose engine is the raft leader, so a swarm is reported once
     * however many managers run an agent. `always`: every manager (one agent per swarm).
     */
    report: z.enum(['leader', 'always']),
    /** Failed tasks of one service within `failureWindow` that make it "failing". */
    failureThreshold: z.number().int().min(1),
    failureWindow: duration,
    requestTimeout: duration,
    /** Longest wait between event-stream reconnects. */
    maxBackoff: duration,
    /** Largest engine response accepted (a 10,000-task /tasks is ~30 MB). */
    maxResponseBytes: z.number().int().min(1_000_000),
  })
  .refine((c) => !(c.socket && c.host), { message: 'set either socket or host, not both', path: ['host'] })
  .refine((c) => !c.tls || c.host, { message: 'tls needs host (tcp://HOST:PORT)', path: ['tls'] });

export type SwarmConfigInput = z.input<typeof swarmConfigSchema>;
export type SwarmConfig = z.output<typeof swarmConfigSchema>;

export const swarmDefaults: Partial<SwarmConfig> = {
  events: 'stream',
  report: 'leader',
  failureThreshold: 3,
  failureWindow: 300_000,
  requestTimeout: 10_000,
  maxBackoff: 30_000,
  maxResponseBytes: 256 * 2 ** 20,
};

/**
 * The engine endpoint the configuration names: `host` (+ `tls`), else `socket`, else `DOCKER_HOST`
 * (`unix://...`, or `tcp://...` with `DOCKER_TLS_VERIFY` / `DOCKER_CERT_PATH` like the Docker CLI),
 * else /var/run/docker.sock. Reads TLS files (coded error when unreadable).
 */
export function engineEndpoint(cfg: SwarmConfig, env: NodeJS.ProcessEnv = process.env): EngineEndpoint {
  if (cfg.host) {
    const url = new URL(cfg.host.replace(/^tcp:/, 'http:'));
    const read = (path: string | undefined, what: string) => {
      if (!path) return undefined;
      try {
        return readFileSync(path, 'utf8');
      } catch (e) {
        throw new SextantError(ErrorCode.CONFIG_INVALID, `collectors.swarm.tls.${what}: cannot read ${path} (${(e as Error).message})`, { hint: 'point it at a readable PEM file' });
      }
    };
    const tls = cfg.tls ? { ca: read(cfg.tls.ca, 'ca'), cert: read(cfg.tls.cert, 'cert'), key: read(cfg.tls.key, 'key') } : undefined;
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port), ...(tls ? { tls } : {}) };
  }
  const dockerHost = env.DOCKER_HOST;
  if (!cfg.socket && dockerHost && /^tcp:\/\/[^/]+:\d+\/?$/.test(dockerHost)) {
    // The Docker CLI's convention: DOCKER_TLS_VERIFY=1 with ca.pem, cert.pem, key.pem in DOCKER_CERT_PATH.
    const certs = env.DOCKER_TLS_VERIFY && env.DOCKER_TLS_VERIFY !== '0' ? env.DOCKER_CERT_PATH : undefined;
    const tls = certs ? { ca: join(certs, 'ca.pem'), cert: join(certs, 'cert.pem'), key: join(certs, 'key.pem') } : undefined;
    return engineEndpoint({ ...cfg, host: dockerHost.replace(/\/$/, ''), tls }, {});
  }
  return resolveEngineSocket(cfg.socket, env);
}
