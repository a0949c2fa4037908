/**
 * Starts a private HAProxy for a test from a config written into a temporary directory (which
 * also holds its stats socket), in the foreground (-db), and stops it by pid. Listens on loopback
 * only; never touches any other HAProxy on the machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForPort } from '@sextant/testkit';

export interface HaproxyProcess {
  readonly dir: string;
  readonly socket: string;
  pid(): number;
  stop(options?: { keepDir?: boolean }): Promise<void>;
  start(): Promise<void>;
}

/** `config` may use `{{socket}}` for the stats socket path; `readyPort` is a port it binds. */
export async function startHaproxy(binary: string, config: string, readyPort: number): Promise<HaproxyProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'sextant-haproxy-'));
  const socket = join(dir, 'admin.sock');
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config.replaceAll('{{socket}}', socket));
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  const launch = async () => {
    const proc = spawn(binary, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => void (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => void (output += d.toString()));
    exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    await Promise.race([
      waitForPort(readyPort, '127.0.0.1', 10_000),
      exited.then(() => {
        throw new Error(`haproxy exited at start: ${output}`);
      }),
    ]);
  };
  const server: HaproxyProcess = {
    dir,
    socket,
    pid: () => child?.pid ?? -1,
    async stop(options = {}) {
      const proc = child;
      if (proc && proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
        process.kill(proc.pid, 'SIGTERM');
        await exited;
      }
      if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
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
