/**
 * Starts a private redis-server for a test on 127.0.0.1:<port> with persistence off and its own
 * temporary directory, and stops it by pid. Never touches any other redis on the machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForPort } from '@sextant/testkit';

export interface RedisServerProcess {
  readonly port: number;
  readonly pid: number;
  /** Everything the server wrote to stdout/stderr (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export async function startRedisServer(binary: string, port: number, extraArgs: readonly string[] = []): Promise<RedisServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'sextant-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--enable-debug-command', 'local', ...extraArgs];
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => void (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => void (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([
      waitForPort(port, '127.0.0.1', 10_000),
      exited.then(() => {
        throw new Error(`redis-server exited at start: ${output}`);
      }),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, pid: child.pid!, output: () => output, stop };
}
