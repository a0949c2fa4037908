/**
 * Starts a private Mosquitto broker for a test from a config in a temporary directory, listening on
 * 127.0.0.1:<port> only, and stops it by pid. Never touches any other broker on the machine.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, waitForPort } from '@sextant/testkit';

export interface MosquittoProcess {
  readonly port: number;
  stop(options?: { keepDir?: boolean }): Promise<void>;
  start(): Promise<void>;
}

export interface MosquittoOptions {
  /** Extra lines for mosquitto.conf (e.g. `max_queued_messages 5`). */
  readonly config?: readonly string[];
  /** `sys_interval` in seconds (default 1; 0 turns $SYS off). */
  readonly sysInterval?: number;
  /** Users for a password_file (anonymous access is then off). */
  readonly users?: Readonly<Record<string, string>>;
}

export async function startMosquitto(binary: string, port: number, options: MosquittoOptions = {}): Promise<MosquittoProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'sextant-mosquitto-'));
  const lines = [`listener ${port} 127.0.0.1`, `sys_interval ${options.sysInterval ?? 1}`, 'persistence false', 'log_dest stderr'];
  // as root, mosquitto would switch to the "mosquitto" user, which cannot read the private temp dir
  if (process.getuid?.() === 0) lines.push('user root');
  if (options.users) {
    const file = join(dir, 'passwd');
    for (const [user, password] of Object.entries(options.users)) {
      execFileSync(findBinary('mosquitto_passwd')!, [...(Object.keys(options.users)[0] === user ? ['-c'] : []), '-b', file, user, password], { stdio: 'pipe' });
    }
    lines.push(`password_file ${file}`, 'allow_anonymous false');
  } else {
    lines.push('allow_anonymous true');
  }
  lines.push(...(options.config ?? []));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `${lines.join('\n')}\n`);
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  const launch = async () => {
    const proc = spawn(binary, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => void (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => void (output += d.toString()));
    exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    await Promise.race([
      waitForPort(port, '127.0.0.1', 10_000),
      exited.then(() => {
        throw new Error(`mosquitto exited at start: ${output}`);
      }),
    ]);
  };
  const server: MosquittoProcess = {
    port,
    async stop(stopOptions = {}) {
      const proc = child;
      if (proc && proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
        process.kill(proc.pid, 'SIGKILL');
        await exited;
      }
      if (!stopOptions.keepDir) rmSync(dir, { recursive: true, force: true });
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
