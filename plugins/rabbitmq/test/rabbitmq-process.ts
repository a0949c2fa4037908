/**
 * Starts a private RabbitMQ node for a test: its own node name, AMQP, distribution and management
 * ports on 127.0.0.1, data, logs, config and Erlang cookie in a temporary directory. Stopped by the
 * pid of its Erlang VM (from its pid file); the machine's own RabbitMQ node, its data and the
 * shared epmd daemon are never touched. Starting a node takes tens of seconds.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RabbitmqProcess {
  readonly managementPort: number;
  stop(): Promise<void>;
}

function chownTree(path: string, uid: number, gid: number): void {
  execFileSync('chown', ['-R', `${uid}:${gid}`, path]);
}

export async function startRabbitmq(binary: string, ports: { amqp: number; management: number; dist: number }): Promise<RabbitmqProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'sextant-rabbitmq-'));
  mkdirSync(join(dir, 'mnesia'));
  mkdirSync(join(dir, 'log'));
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_management].\n');
  writeFileSync(join(dir, 'rabbitmq.conf'), [
    `listeners.tcp.default = 127.0.0.1:${ports.amqp}`,
    `management.tcp.port = ${ports.management}`,
    'management.tcp.ip = 127.0.0.1',
    'loopback_users = none',
    'collect_statistics_interval = 500',
    '',
  ].join('\n'));
  // Debian's rabbitmq-server switches to the rabbitmq user when started as root
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'rabbitmq'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'rabbitmq'], { encoding: 'utf8' }).trim());
    chownTree(dir, uid, gid);
  }
  const env = {
    ...process.env,
    HOME: dir,
    RABBITMQ_NODENAME: `sextant-test-${randomBytes(4).toString('hex')}@localhost`,
    RABBITMQ_BASE: dir,
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_FEATURE_FLAGS_FILE: join(dir, 'feature_flags'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_DIST_PORT: String(ports.dist),
    RABBITMQ_PID_FILE: join(dir, 'pid'),
  };
  const child: ChildProcess = spawn(binary, [], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => void (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => void (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));

  const vmPid = () => {
    try {
      return Number(readFileSync(join(dir, 'pid'), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  const stop = async () => {
    const pid = vmPid();
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    if (!gone && child.pid !== undefined) {
      const timer = setTimeout(() => {
        try {
          if (pid !== undefined) process.kill(pid, 'SIGKILL');
          if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }, 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 110_000;
  for (;;) {
    if (gone) {
      await stop();
      throw new Error(`rabbitmq-server exited at start: ${output.slice(-2000)}`);
    }
    const up = await fetch(`http://127.0.0.1:${ports.management}/api/overview`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } })
      .then((r) => r.ok)
      .catch(() => false);
    if (up) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`RabbitMQ management did not answer in time: ${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { managementPort: ports.management, stop };
}
