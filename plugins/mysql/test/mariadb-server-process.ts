/**
 * Starts a private MariaDB (or MySQL) server for a test: a data directory made once per test file
 * with `mariadb-install-db` and copied per server, `mariadbd` on 127.0.0.1:<port> with its socket,
 * pid file and log in a temporary directory. Stopped by pid; never touches any other server on the
 * machine or its data. `root` has no password and may log in from 127.0.0.1.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, waitForPort } from '@sextant/testkit';

export interface MariadbBinaries {
  readonly server: string;
  readonly installDb: string;
}

export function findMariadb(): MariadbBinaries | undefined {
  const server = findBinary('mariadbd') ?? findBinary('mysqld');
  const installDb = findBinary('mariadb-install-db') ?? findBinary('mysql_install_db');
  return server && installDb ? { server, installDb } : undefined;
}

let templateRoot: string | undefined;
let template: string | undefined;

/** Removes the shared data directory template; call in afterAll of every file that started a server. */
export function removeTemplate(): void {
  if (templateRoot) rmSync(templateRoot, { recursive: true, force: true });
  templateRoot = template = undefined;
}

/** One freshly initialised data directory per process, copied for each server (install-db takes seconds). */
function templateDataDir(bin: MariadbBinaries): string {
  if (template) return template;
  const dir = mkdtempSync(join(tmpdir(), 'sextant-mariadb-template-'));
  const user = process.getuid?.() === 0 ? ['--user=root'] : [];
  execFileSync(bin.installDb, ['--no-defaults', `--datadir=${join(dir, 'data')}`, ...user, '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'pipe' });
  templateRoot = dir;
  template = join(dir, 'data');
  return template;
}

export interface MariadbServerProcess {
  readonly port: number;
  pid(): number;
  log(): string;
  /** Stops the server (SIGTERM, then SIGKILL after 20 s) and waits; `keepData` allows {@link start} again. */
  stop(options?: { keepData?: boolean }): Promise<void>;
  start(): Promise<void>;
}

export async function startMariadb(bin: MariadbBinaries, port: number, extraArgs: readonly string[] = []): Promise<MariadbServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'sextant-mariadb-'));
  const data = join(dir, 'data');
  cpSync(templateDataDir(bin), data, { recursive: true });
  const user = process.getuid?.() === 0 ? ['--user=root'] : [];
  const args = [
    '--no-defaults', `--datadir=${data}`, `--socket=${join(dir, 'sock')}`, `--pid-file=${join(dir, 'pid')}`, `--log-error=${join(dir, 'error.log')}`,
    `--port=${port}`, '--bind-address=127.0.0.1', ...user, '--innodb-buffer-pool-size=16M', '--innodb-flush-log-at-trx-commit=0', '--sync-binlog=0', '--skip-name-resolve', ...extraArgs,
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const log = () => {
    try {
      return readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const launch = async () => {
    const proc = spawn(bin.server, args, { stdio: 'ignore' });
    child = proc;
    exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    await Promise.race([
      waitForPort(port, '127.0.0.1', 30_000),
      exited.then(() => {
        throw new Error(`mariadbd exited at start: ${log()}`);
      }),
    ]);
  };
  const stopProcess = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
    process.kill(proc.pid, 'SIGTERM');
    const timer = setTimeout(() => proc.exitCode === null && proc.pid !== undefined && process.kill(proc.pid, 'SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  const server: MariadbServerProcess = {
    port,
    pid: () => child?.pid ?? -1,
    log,
    async stop(options = {}) {
      await stopProcess();
      if (!options.keepData) rmSync(dir, { recursive: true, force: true });
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
