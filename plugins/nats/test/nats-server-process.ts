/**
 * Starts a private nats-server for a test: client port and monitoring port on 127.0.0.1, JetStream
 * storage in a temporary directory; stopped by pid. Never touches any other NATS on the machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForPort } from '@sextant/testkit';

export interface NatsServerProcess {
  readonly port: number;
  readonly monitorPort: number;
  stop(options?: { keepData?: boolean }): Promise<void>;
  start(): Promise<void>;
}

export async function startNatsServer(binary: string, port: number, monitorPort: number, extraArgs: readonly string[] = ['-js']): Promise<NatsServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'sextant-nats-'));
  const args = ['-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort), '-sd', dir, ...extraArgs];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  const launch = async () => {
    const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => void (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => void (output += d.toString()));
    exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    await Promise.race([
      Promise.all([waitForPort(port, '127.0.0.1', 10_000), waitForPort(monitorPort, '127.0.0.1', 10_000)]),
      exited.then(() => {
        throw new Error(`nats-server exited at start: ${output}`);
      }),
    ]);
  };
  const server: NatsServerProcess = {
    port,
    monitorPort,
    async stop(options = {}) {
      const proc = child;
      if (proc && proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
        process.kill(proc.pid, 'SIGKILL');
        await exited;
      }
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
