/**
 * Starts a private PostgreSQL cluster for a test: `initdb` into a temporary directory, `postgres`
 * on 127.0.0.1:<port> with its unix socket in that directory, password auth (scram) over TCP.
 * Stopped by pid; never touches any other PostgreSQL on the machine or its data.
 *
 * The binaries are found at run time under the Debian layout `/usr/lib/postgresql/<major>/bin`
 * (the highest major that has `initdb`), or on PATH. PostgreSQL refuses to run as root: when the
 * test runs as root the cluster is created and run as the `postgres` system user.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, waitForPort } from '@sextant/testkit';

export const SUPERUSER_PASSWORD = 'sextant-test-pw';

/** Folder with initdb/postgres/pg_basebackup, or undefined when PostgreSQL is not installed. */
export function findPostgresBin(): string | undefined {
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const majors = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v) && existsSync(join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (majors[0]) return join(debian, majors[0], 'bin');
  }
  const initdb = findBinary('initdb');
  return initdb ? initdb.slice(0, -'/initdb'.length) : undefined;
}

/** uid/gid to run PostgreSQL as: the `postgres` user when we are root, else ourselves. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export interface PostgresServerProcess {
  readonly port: number;
  readonly dir: string;
  pid(): number;
  output(): string;
  /** Fast shutdown (SIGINT) and wait; `keepData` leaves the cluster for {@link start} again. */
  stop(options?: { keepData?: boolean }): Promise<void>;
  /** Starts the (stopped) cluster again on the same port. */
  start(): Promise<void>;
}

function run(bin: string, args: string[], user: { uid: number; gid: number } | undefined, env: NodeJS.ProcessEnv = {}): void {
  execFileSync(bin, args, { stdio: 'pipe', ...(user ?? {}), env: { ...process.env, LC_ALL: 'C', ...env } });
}

/**
 * initdb (or pg_basebackup from `standbyOf`) + postgres. `settings` become `-c name=value`.
 */
export async function startPostgres(bin: string, port: number, options: { settings?: Record<string, string>; standbyOf?: number } = {}): Promise<PostgresServerProcess> {
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'sextant-pg-'));
  chmodSync(dir, 0o700);
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  if (options.standbyOf === undefined) {
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${SUPERUSER_PASSWORD}\n`);
    if (user) chownSync(pwfile, user.uid, user.gid);
    run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-sync'], user);
  } else {
    run(join(bin, 'pg_basebackup'), ['-h', '127.0.0.1', '-p', String(options.standbyOf), '-U', 'postgres', '-D', data, '-R', '-X', 'stream', '--checkpoint=fast', '--no-sync'], user, { PGPASSWORD: SUPERUSER_PASSWORD });
  }
  const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: dir, fsync: 'off', logging_collector: 'off', ...options.settings };
  const args = ['-D', data, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];

  let child: ChildProcess | undefined;
  let output = '';
  let exited: Promise<void> = Promise.resolve();
  const launch = async () => {
    const proc = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => void (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => void (output += d.toString()));
    exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    await Promise.race([
      waitForPort(port, '127.0.0.1', 20_000).then(() => ready()),
      exited.then(() => {
        throw new Error(`postgres exited at start: ${output}`);
      }),
    ]);
  };
  /** The port opens before the server accepts sessions ("the database system is starting up"). */
  const ready = async () => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => execFile(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)], (error) => resolve(!error)));
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`postgres on ${port} did not become ready: ${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stopProcess = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
    process.kill(proc.pid, 'SIGINT');
    const timer = setTimeout(() => proc.exitCode === null && proc.pid !== undefined && process.kill(proc.pid, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const server: PostgresServerProcess = {
    port,
    dir,
    pid: () => child?.pid ?? -1,
    output: () => output,
    async stop(stopOptions = {}) {
      await stopProcess();
      if (!stopOptions.keepData) rmSync(dir, { recursive: true, force: true });
    },
    start: launch,
  };
  try {
    await launch();
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}
