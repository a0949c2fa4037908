/**
 * A synthetic container engine: an HTTP server on a unix socket that answers the Docker Engine API
 * calls the collector makes (`/version`, `/info`, `/containers/json`, `/containers/{id}/json`,
 * `/events`) from in-memory data. For scale tests, fault tests and the benchmark; it never runs a
 * container. Test code drives it: add/remove containers, push events, make an inspect vanish,
 * restart the engine mid-stream.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import type { EngineEvent, EngineInspect } from '@sextant/docker-engine';

export interface SyntheticContainer {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly pid: number;
  readonly state?: string;
  readonly labels?: Record<string, string>;
  readonly ip?: string;
  readonly exposed?: readonly number[];
  readonly nanoCpus?: number;
  readonly memory?: number;
  readonly networkMode?: string;
}

export class SyntheticEngine {
  private server: Server | undefined;
  private readonly containers = new Map<string, SyntheticContainer>();
  private readonly streams = new Set<ServerResponse>();
  /** Ids listed by /containers/json whose inspect answers 404 (removed in between). */
  readonly vanishOnInspect = new Set<string>();
  /** Requests served, by path without query. */
  readonly requests = new Map<string, number>();
  apiVersion = '1.41';
  platform = 'Docker Engine - Community';
  /** When set, every response body is this text instead (malformed engine). */
  garbage: string | undefined;

  constructor(readonly socketPath: string) {}

  async start(): Promise<void> {
    rmSync(this.socketPath, { force: true });
    const server = createServer((req, res) => this.handle(req.url ?? '/', res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => resolve());
    });
    this.server = server;
  }

  /** Stops listening and cuts every event stream (like a dying engine). */
  async stop(): Promise<void> {
    for (const s of this.streams) s.destroy();
    this.streams.clear();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    rmSync(this.socketPath, { force: true });
  }

  /** Engine restart: stop, then listen again on the same socket. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Number of open event streams. */
  get eventStreams(): number {
    return this.streams.size;
  }

  add(c: SyntheticContainer): void {
    this.containers.set(c.id, { state: 'running', ...c });
  }

  update(id: string, change: Partial<SyntheticContainer>): void {
    const c = this.containers.get(id);
    if (c) this.containers.set(id, { ...c, ...change });
  }

  remove(id: string): void {
    this.containers.delete(id);
  }

  /** Pushes one event (or a raw line) to every open event stream. */
  emit(event: EngineEvent | string): void {
    const line = typeof event === 'string' ? event : JSON.stringify({ Type: 'container', time: Math.floor(Date.now() / 1000), timeNano: Date.now() * 1e6, ...event });
    for (const s of this.streams) s.write(`${line}\n`);
  }

  private count(path: string): void {
    this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
  }

  private handle(url: string, res: ServerResponse): void {
    const path = url.split('?')[0].replace(/^\/v\d+\.\d+/, '');
    this.count(path);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(this.garbage ?? JSON.stringify(body));
    };
    if (path === '/version') return json(200, { ApiVersion: this.apiVersion, MinAPIVersion: '1.12', Version: 'synthetic', Platform: { Name: this.platform } });
    if (path === '/info') return json(200, { NCPU: 4, MemTotal: 8 * 2 ** 30, Name: 'synthetic-host' });
    if (path === '/containers/json') {
      return json(
        200,
        [...this.containers.values()].map((c) => ({ Id: c.id, Names: [`/${c.name}`], Image: c.image, Labels: c.labels ?? {}, State: c.state })),
      );
    }
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      this.streams.add(res);
      res.on('close', () => this.streams.delete(res));
      return;
    }
    const m = /^\/containers\/([^/]+)\/json$/.exec(path);
    if (m) {
      const c = this.containers.get(decodeURIComponent(m[1]));
      if (!c || this.vanishOnInspect.has(c.id)) return json(404, { message: `No such container: ${m[1]}` });
      return json(200, this.inspectOf(c));
    }
    json(404, { message: 'page not found' });
  }

  private inspectOf(c: SyntheticContainer): EngineInspect {
    const running = c.state === 'running';
    return {
      Id: c.id,
      Name: `/${c.name}`,
      Image: `sha256:${'0'.repeat(64)}`,
      RestartCount: 0,
      State: { Status: c.state, Pid: running ? c.pid : 0, ExitCode: 0, OOMKilled: false },
      Config: { Image: c.image, Labels: c.labels ?? {}, ExposedPorts: Object.fromEntries((c.exposed ?? []).map((p) => [`${p}/tcp`, {}])) },
      HostConfig: { NanoCpus: c.nanoCpus ?? 0, CpuQuota: 0, CpuPeriod: 0, Memory: c.memory ?? 0, NetworkMode: c.networkMode ?? 'bridge' },
      NetworkSettings: { Networks: c.ip ? { bridge: { IPAddress: c.ip } } : {}, Ports: {} },
    };
  }
}
