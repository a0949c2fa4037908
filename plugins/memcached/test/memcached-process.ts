/**
 * Starts a private memcached for a test on 127.0.0.1:<port> (TCP only) and stops it by pid. Never
 * touches any other memcached on the machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { waitForPort } from '@sextant/testkit';

export interface MemcachedProcess {
  readonly port: number;
  pid(): number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startMemcached(binary: string, port: number, extraArgs: readonly string[] = []): Promise<MemcachedProcess> {
  // memcached refuses to run as root unless told which user to stay
  const args = ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-t', '1', ...(process.getuid?.() === 0 ? ['-u', 'root'] : []), ...extraArgs];
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
      waitForPort(port, '127.0.0.1', 10_000),
      exited.then(() => {
        throw new Error(`memcached exited at start: ${output}`);
      }),
    ]);
  };
  const server: MemcachedProcess = {
    port,
    pid: () => child?.pid ?? -1,
    async stop() {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
      process.kill(proc.pid, 'SIGKILL');
      await exited;
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

/** A text-protocol client for driving traffic: sends one command and waits for its reply. */
export class MemcachedTextClient {
  private buffer = '';
  private waiter: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffer += d.toString('latin1');
      this.waiter?.();
    });
    socket.on('error', () => {});
  }

  static open(port: number): Promise<MemcachedTextClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new MemcachedTextClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends `line` (and `data` as a block) and resolves with the reply once `done` matches it. */
  async send(line: string, done: RegExp, data?: string): Promise<string> {
    this.buffer = '';
    this.socket.write(`${line}\r\n${data !== undefined ? `${data}\r\n` : ''}`);
    await new Promise<void>((resolve) => {
      const check = () => {
        if (done.test(this.buffer)) {
          this.waiter = undefined;
          resolve();
        }
      };
      this.waiter = check;
      check();
    });
    return this.buffer;
  }

  set(key: string, value: string): Promise<string> {
    return this.send(`set ${key} 0 0 ${Buffer.byteLength(value)}`, /(STORED|ERROR[^\r]*)\r\n$/, value);
  }

  get(key: string): Promise<string> {
    return this.send(`get ${key}`, /END\r\n$/);
  }

  close(): void {
    this.socket.destroy();
  }
}
