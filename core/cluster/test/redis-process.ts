/** A private redis-server per test file: loopback, a free port, no persistence, stopped by pid. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from '@sextant/testkit';

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
  /** SIGKILLs the server, keeping its data directory (an AOF survives). */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data directory. */
  relaunch(): Promise<void>;
  /** kill() + relaunch(). */
  restart(): Promise<void>;
}

export async function startTestRedis(extraArgs: readonly string[] = []): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sextant-cluster-redis-'));
  let child = launch();
  function launch() {
    const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs], { stdio: 'ignore' });
    return { proc: c, exited: new Promise<void>((r) => c.once('exit', () => r())) };
  }
  const kill = async () => {
    if (child.proc.exitCode === null && child.proc.signalCode === null && child.proc.pid !== undefined) {
      process.kill(child.proc.pid, 'SIGKILL');
      await child.exited;
    }
  };
  await waitForPort(port, '127.0.0.1', 15_000);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child.proc.pid!;
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    kill,
    async relaunch() {
      child = launch();
      await waitForPort(port, '127.0.0.1', 15_000);
    },
    async restart() {
      await kill();
      child = launch();
      await waitForPort(port, '127.0.0.1', 15_000);
    },
  };
}

/** Stops something that should stop promptly; a hang must not keep the test's redis-server alive. */
export async function stopWithin(stop: () => Promise<unknown>, ms = 15_000): Promise<void> {
  await Promise.race([stop().catch(() => undefined), new Promise((r) => setTimeout(r, ms))]);
}

/** Polls `check` until it returns true (generous: the machine is shared). */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
