/**
 * A stand-in swarm manager for the benchmark and the fault tests: a unix-socket HTTP server that
 * answers `/version`, `/info`, `/nodes`, `/services`, `/tasks` and `/events` with bodies of the
 * shape a real Docker 20.10 manager returns (field names, nesting and typical sizes recorded from
 * a real single-node swarm: each task carries its spec and a network attachment, ~1.5 KB of JSON).
 * The real engine is what the plugin's main tests run against; this one exists for sizes (2,000
 * services / 10,000 tasks) and faults (not a manager, not in a swarm, garbage) a real engine will
 * not produce on demand.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RecordedSwarmShape {
  readonly nodes: number;
  readonly services: number;
  /** Running tasks per service (replicas). */
  readonly tasksPerService: number;
  /** Failed tasks kept in history per service (0 by default). */
  readonly failedPerService?: number;
}

type Mode = 'leader' | 'follower' | 'worker' | 'outside' | 'garbage';

const iso = (ms: number) => new Date(ms).toISOString();
const hex = (n: number, len = 25) => n.toString(36).padStart(len, '0').slice(-len);

export interface RecordedSwarmEngineOptions {
  /** Serve HTTPS on 127.0.0.1 (an ephemeral port) with this key and certificate instead of a unix socket. */
  readonly tls?: { readonly key: string; readonly cert: string };
}

export class RecordedSwarmEngine {
  /** The unix socket (unused with TLS). */
  readonly socketPath: string;
  /** `tcp://127.0.0.1:<port>` once started with TLS. */
  tcpEndpoint = '';
  private readonly dir: string;
  private readonly server: Server;
  private nodesJson = '[]';
  private servicesJson = '[]';
  private tasksJson = '[]';
  private readonly streams = new Set<ServerResponse>();
  /** What the engine says about its place in the swarm. */
  mode: Mode = 'leader';
  /** Requests answered, by path (without the version prefix). */
  readonly requests = new Map<string, number>();
  /** Bodies served instead of the generated ones, by path (`/tasks`): malformed-input tests. */
  readonly bodies = new Map<string, string>();
  /** HTTP status for `/events` (a socket proxy that forbids the stream answers 403). */
  eventsStatus = 200;

  constructor(
    shape: RecordedSwarmShape,
    private readonly options: RecordedSwarmEngineOptions = {},
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'sextant-swarm-engine-'));
    this.socketPath = join(this.dir, 'docker.sock');
    this.setShape(shape);
    const handler = (req: IncomingMessage, res: ServerResponse) => this.answer(req.url ?? '/', res);
    this.server = options.tls ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createServer(handler);
  }

  start(): Promise<void> {
    if (this.options.tls) {
      return new Promise((resolve) =>
        this.server.listen(0, '127.0.0.1', () => {
          this.tcpEndpoint = `tcp://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
          resolve();
        }),
      );
    }
    return new Promise((resolve) => this.server.listen(this.socketPath, resolve));
  }

  async stop(): Promise<void> {
    for (const s of this.streams) s.destroy();
    this.streams.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Regenerates the cluster with `shape` (ids are stable for equal indexes). */
  setShape(shape: RecordedSwarmShape): void {
    const t0 = Date.UTC(2026, 11, 1);
    const nodes = Array.from({ length: shape.nodes }, (_, i) => ({
      ID: `node${hex(i, 21)}`,
      Version: { Index: 9 + i },
      CreatedAt: iso(t0),
      UpdatedAt: iso(t0 + 1000),
      Spec: { Labels: {}, Role: i < 3 ? 'manager' : 'worker', Availability: 'active' },
      Description: {
        Hostname: `node-${i}`,
        Platform: { Architecture: 'x86_64', OS: 'linux' },
        Resources: { NanoCPUs: 8_000_000_000, MemoryBytes: 33_554_432_000 },
        Engine: { EngineVersion: '20.10.24+dfsg1', Plugins: [{ Type: 'Log', Name: 'json-file' }, { Type: 'Network', Name: 'overlay' }, { Type: 'Volume', Name: 'local' }] },
        TLSInfo: { TrustRoot: '-----BEGIN CERTIFICATE-----\nMIIBajCCARCgAwIBAgIU...\n-----END CERTIFICATE-----\n', CertIssuerSubject: 'MBMxETAPBgNVBAMTCHN3YXJtLWNh', CertIssuerPublicKey: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE' },
      },
      Status: { State: 'ready', Addr: `127.0.0.${(i % 250) + 1}` },
      ...(i < 3 ? { ManagerStatus: { Leader: i === 0, Reachability: 'reachable', Addr: `127.0.0.${i + 1}:2377` } } : {}),
    }));
    const services = [];
    const tasks = [];
    for (let s = 0; s < shape.services; s++) {
      const id = `svc${hex(s, 22)}`;
      const image = `registry.example/team-${s % 40}/app-${s}:1.${s % 7}.0@sha256:${hex(s, 64)}`;
      const containerSpec = { Image: image, Args: ['serve', '--port', '8080'], Env: [`APP=${s}`], Init: false, DNSConfig: {}, Isolation: 'default' };
      services.push({
        ID: id,
        Version: { Index: 100 + s },
        CreatedAt: iso(t0),
        UpdatedAt: iso(t0 + s),
        Spec: {
          Name: `stack${s % 50}_app-${s}`,
          Labels: { 'com.docker.stack.namespace': `stack${s % 50}`, 'com.docker.stack.image': image },
          TaskTemplate: { ContainerSpec: containerSpec, Resources: { Limits: { MemoryBytes: 268_435_456 }, Reservations: {} }, RestartPolicy: { Condition: 'any', Delay: 5_000_000_000, MaxAttempts: 0 }, Placement: {}, Networks: [{ Target: 'ingressnet', Aliases: [`app-${s}`] }], ForceUpdate: 0, Runtime: 'container' },
          Mode: { Replicated: { Replicas: shape.tasksPerService } },
          UpdateConfig: { Parallelism: 1, FailureAction: 'pause', Monitor: 5_000_000_000, MaxFailureRatio: 0, Order: 'stop-first' },
          EndpointSpec: { Mode: 'vip', Ports: s % 10 === 0 ? [{ Protocol: 'tcp', TargetPort: 8080, PublishedPort: 30000 + s, PublishMode: 'ingress' }] : [] },
        },
        Endpoint: { Spec: { Mode: 'vip' }, VirtualIPs: [{ NetworkID: 'ingressnet', Addr: `10.0.${(s >> 8) & 255}.${s & 255}/16` }] },
        UpdateStatus: s % 100 === 0 ? { State: 'updating', StartedAt: iso(t0), Message: 'update in progress' } : { State: 'completed', StartedAt: iso(t0), CompletedAt: iso(t0 + 60_000), Message: 'update completed' },
        ServiceStatus: { RunningTasks: shape.tasksPerService, DesiredTasks: shape.tasksPerService, CompletedTasks: 0 },
      });
      const failed = shape.failedPerService ?? 0;
      for (let r = 0; r < shape.tasksPerService + failed; r++) {
        const running = r < shape.tasksPerService;
        const taskIndex = s * 1000 + r;
        tasks.push({
          ID: `task${hex(taskIndex, 21)}`,
          Version: { Index: 1000 + taskIndex },
          CreatedAt: iso(t0),
          UpdatedAt: iso(t0 + 1000),
          Labels: {},
          Spec: { ContainerSpec: containerSpec, Resources: { Limits: { MemoryBytes: 268_435_456 }, Reservations: {} }, Placement: {}, Networks: [{ Target: 'ingressnet', Aliases: [`app-${s}`] }], ForceUpdate: 0 },
          ServiceID: id,
          Slot: (r % shape.tasksPerService) + 1,
          NodeID: nodes[taskIndex % Math.max(1, nodes.length)]?.ID ?? '',
          Status: {
            Timestamp: iso(t0 + 2000),
            State: running ? 'running' : 'failed',
            Message: running ? 'started' : 'started',
            ...(running ? {} : { Err: 'task: non-zero exit (1)' }),
            ContainerStatus: { ContainerID: hex(taskIndex, 64), PID: running ? 10_000 + (taskIndex % 50_000) : 0, ExitCode: running ? 0 : 1 },
            PortStatus: {},
          },
          DesiredState: running ? 'running' : 'shutdown',
          NetworksAttachments: [{ Network: { ID: 'ingressnet', Version: { Index: 7 }, Spec: { Name: 'app-net', Labels: {}, DriverConfiguration: { Name: 'overlay' }, Scope: 'swarm' }, DriverState: { Name: 'overlay', Options: { 'com.docker.network.driver.overlay.vxlanid_list': '4097' } }, IPAMOptions: { Driver: { Name: 'default' }, Configs: [{ Subnet: '10.0.0.0/16', Gateway: '10.0.0.1' }] } }, Addresses: [`10.0.${(taskIndex >> 8) & 255}.${taskIndex & 255}/16`] }],
        });
      }
    }
    this.nodesJson = JSON.stringify(nodes);
    this.servicesJson = JSON.stringify(services);
    this.tasksJson = JSON.stringify(tasks);
  }

  /** Bytes of the /nodes, /services and /tasks bodies. */
  get bodyBytes(): number {
    return this.nodesJson.length + this.servicesJson.length + this.tasksJson.length;
  }

  private answer(url: string, res: ServerResponse): void {
    const path = new URL(url, 'http://engine').pathname.replace(/^\/v[\d.]+/, '');
    this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
    res.setHeader('content-type', 'application/json');
    if (path === '/version') return void res.end(JSON.stringify({ ApiVersion: '1.41', Version: '20.10.24+dfsg1', MinAPIVersion: '1.12' }));
    if (path === '/events') {
      if (this.eventsStatus !== 200) {
        res.statusCode = this.eventsStatus;
        return void res.end(JSON.stringify({ message: 'forbidden by the socket proxy' }));
      }
      res.writeHead(200);
      res.flushHeaders();
      this.streams.add(res);
      res.on('close', () => this.streams.delete(res));
      return;
    }
    const body = this.bodies.get(path);
    if (body !== undefined) return void res.end(body);
    if (this.mode === 'garbage') return void res.end('<html>502 Bad Gateway</html>');
    if (path === '/info') {
      const active = this.mode !== 'outside';
      return void res.end(
        JSON.stringify({
          Name: 'node-0',
          NCPU: 8,
          MemTotal: 33_554_432_000,
          Swarm: active
            ? { NodeID: this.mode === 'worker' ? 'worker-node' : (JSON.parse(this.bodies.get('/nodes') ?? this.nodesJson) as { ID?: string }[])[this.mode === 'follower' ? 1 : 0]?.ID, LocalNodeState: 'active', ControlAvailable: this.mode !== 'worker', Error: '', Cluster: { ID: 'recordedcluster0000000000' } }
            : { NodeID: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '' },
        }),
      );
    }
    if (path === '/nodes' || path === '/services' || path === '/tasks') {
      if (this.mode === 'worker' || this.mode === 'outside') {
        res.statusCode = 503;
        return void res.end(JSON.stringify({ message: 'This node is not a swarm manager. Worker nodes can\'t be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.' }));
      }
      return void res.end(path === '/nodes' ? this.nodesJson : path === '/services' ? this.servicesJson : this.tasksJson);
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ message: 'page not found' }));
  }
}
