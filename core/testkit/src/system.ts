/**
 * Tests that need a system server (nginx, redis-server, dockerd, chromium) run when it is present
 * and are skipped, with the reason, when it is not. With `SEXTANT_REQUIRE_ALL=1` (set by `.ci/run`)
 * a missing server fails the test instead, so CI never silently skips.
 */
import { accessSync, constants } from 'node:fs';
import { createServer, connect } from 'node:net';
import { delimiter, join } from 'node:path';

const EXTRA_PATHS = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** Absolute path of an executable on PATH (plus the sbin folders), or undefined. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_PATHS];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** True when `SEXTANT_REQUIRE_ALL=1`: missing system dependencies fail instead of skipping. */
export function requireAll(): boolean {
  return process.env.SEXTANT_REQUIRE_ALL === '1';
}

/**
 * Call at the top of a test (or beforeAll with the suite's context) that needs a system binary.
 * Returns its path, skips the test with a reason, or throws under SEXTANT_REQUIRE_ALL=1.
 *
 * ```ts
 * it('counts requests', async (ctx) => { const nginx = needBinary(ctx, 'nginx', 'apt-get install nginx-light'); ... });
 * ```
 */
export function needBinary(ctx: { skip: (note?: string) => void }, name: string, install: string): string {
  const path = findBinary(name);
  if (path) return path;
  const reason = `${name} is not installed (${install})`;
  if (requireAll()) throw new Error(`SEXTANT_REQUIRE_ALL=1 but ${reason}`);
  ctx.skip(reason);
  throw new Error('unreachable: skipped');
}

/** Skips (or fails under SEXTANT_REQUIRE_ALL=1) with `reason` when `available` is false. */
export function needCondition(ctx: { skip: (note?: string) => void }, available: boolean, reason: string): void {
  if (available) return;
  if (requireAll()) throw new Error(`SEXTANT_REQUIRE_ALL=1 but ${reason}`);
  ctx.skip(reason);
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on host:port, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
