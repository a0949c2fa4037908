/**
 * A real nginx for tests: its own prefix directory, its own nginx.conf, listening on 127.0.0.1 only,
 * run in the foreground (`daemon off`) as our child so it is stopped by its pid. Locations with known
 * statuses, bodies and delays (through a node upstream that sleeps N ms for /slow/N).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitForPort } from '@sextant/testkit';

const run = promisify(execFile);

export interface NginxFixture {
  readonly port: number;
  readonly prefix: string;
  readonly logPath: string;
  readonly base: string;
  /** Starts (or starts again) nginx on the same port and config. */
  start(): Promise<void>;
  /** Stops nginx: SIGTERM to the master pid we spawned, then waits for it to exit. */
  stop(): Promise<void>;
  /** `nginx -s reopen`: reopen log files after a rename. */
  reopen(): Promise<void>;
  /** Stops nginx and the upstream and removes the prefix directory. */
  dispose(): Promise<void>;
}

/** Node upstream: GET /slow/<ms> answers "slow\n" after <ms> milliseconds. */
async function startUpstream(): Promise<{ server: Server; port: number }> {
  const port = await freePort();
  const server = createServer((req, res) => {
    const ms = Number((req.url ?? '').split('/')[2]) || 0;
    res.setHeader('content-length', '5'); // no chunked framing: body bytes = 5
    setTimeout(() => res.end('slow\n'), Math.min(ms, 10_000));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, port };
}

export async function createNginx(binary: string, logFormat: string, port?: number): Promise<NginxFixture> {
  const prefix = await mkdtemp(join(tmpdir(), 'sextant-nginx-'));
  const listen = port ?? (await freePort());
  const upstream = await startUpstream();
  const logPath = join(prefix, 'access.log');
  const confPath = join(prefix, 'nginx.conf');
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(prefix, 'tmp', d), { recursive: true });
  const escaped = logFormat.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  const asRoot = process.getuid?.() === 0;
  await writeFile(
    confPath,
    `${asRoot ? 'user root root;\n' : ''}worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 128; }
http {
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  default_type text/plain;
  log_format sextant '${escaped}';
  access_log ${logPath} sextant;
  server {
    listen 127.0.0.1:${listen};
    location = /nginx_status { stub_status; access_log off; }
    location = /garbage_status { access_log off; return 200 "Active connections: lots\\n"; }
    location = /ok { return 200 "hello\\n"; }
    location /users/ { return 200 "user\\n"; }
    location = /moved { return 301 /ok; }
    location = /missing { return 404; }
    location = /private_status { access_log off; return 403; }
    location /boom/ { return 500; }
    location /slow/ { proxy_pass http://127.0.0.1:${upstream.port}; }
  }
}
`,
  );
  let child: ChildProcess | undefined;
  let exited: Promise<void> | undefined;
  const base = `http://127.0.0.1:${listen}`;

  const fixture: NginxFixture = {
    port: listen,
    prefix,
    logPath,
    base,
    async start() {
      const c = spawn(binary, ['-p', prefix, '-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      c.stderr?.on('data', (d) => (stderr += String(d)));
      child = c;
      exited = new Promise((resolve) => c.once('exit', () => resolve()));
      try {
        await Promise.race([waitForPort(listen), exited.then(() => Promise.reject(new Error(`nginx exited: ${stderr}`)))]);
      } catch (e) {
        const log = await readFile(join(prefix, 'error.log'), 'utf8').catch(() => '');
        throw new Error(`${(e as Error).message}\n${log}`);
      }
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
      child = undefined;
    },
    async reopen() {
      await run(binary, ['-p', prefix, '-c', confPath, '-s', 'reopen']);
    },
    async dispose() {
      await fixture.stop();
      await new Promise((resolve) => upstream.server.close(resolve));
      await rm(prefix, { recursive: true, force: true });
    },
  };
  return fixture;
}
