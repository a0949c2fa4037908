/**
 * A throwaway npm registry for end-to-end tests: verdaccio 6.8.0 from tools/builder/e2e/verdaccio
 * (its own npm folder, outside the workspaces), storage in a temp folder, bound to 127.0.0.1 on a
 * free port. `@sextant/*` packages live only in its storage (no uplink); everything else is proxied
 * to the real registry. One user is created over HTTP, and a private npm userconfig holds its token.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitForPort } from '@sextant/testkit';

export const VERDACCIO_DIR = join(import.meta.dirname, '..', 'e2e', 'verdaccio');
const VERDACCIO_BIN = join(VERDACCIO_DIR, 'node_modules', 'verdaccio', 'bin', 'verdaccio');

export interface LocalRegistry {
  readonly url: string;
  /** An npm userconfig file with the registry and its token; pass as NPM_CONFIG_USERCONFIG. */
  readonly userconfig: string;
  readonly pid: number;
  /** Environment for npm/npx/nx child processes that must talk to this registry only. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Installs verdaccio into its folder when it is not there yet (npm ci from the committed lock). */
export function ensureVerdaccio(): void {
  if (existsSync(VERDACCIO_BIN)) return;
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--prefix', VERDACCIO_DIR], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`installing verdaccio failed: ${r.stderr}`);
}

export async function startLocalRegistry(workDir: string, uplink = 'https://registry.npmjs.org/'): Promise<LocalRegistry> {
  ensureVerdaccio();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  mkdirSync(join(workDir, 'storage'), { recursive: true });
  const config = join(workDir, 'verdaccio.yaml');
  writeFileSync(
    config,
    [
      `storage: ${join(workDir, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(workDir, 'htpasswd')}`,
      '    max_users: 10',
      'uplinks:',
      '  npmjs:',
      `    url: ${uplink}`,
      '    timeout: 60s',
      '    maxage: 30m',
      'packages:',
      "  '@sextant/*':",
      '    access: $all',
      '    publish: $authenticated',
      '    unpublish: $authenticated',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      '    proxy: npmjs',
      'server:',
      '  keepAliveTimeout: 60',
      'log: { type: stdout, format: pretty, level: error }',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(process.execPath, [VERDACCIO_BIN, '--config', config, '--listen', `127.0.0.1:${port}`], {
    cwd: workDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += String(d)));
  child.stderr!.on('data', (d) => (output += String(d)));
  try {
    await waitForPort(port, '127.0.0.1', 30_000);
  } catch (e) {
    child.kill('SIGTERM');
    throw new Error(`verdaccio did not start: ${(e as Error).message}\n${output}`);
  }
  // Create the publishing user (the registry's couchdb-style user endpoint) and keep its token.
  const res = await fetch(`${url}/-/user/org.couchdb.user:sextant-e2e`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'sextant-e2e', password: 'sextant-e2e-password', email: 'e2e@example.invalid', type: 'user', roles: [] }),
  });
  const body = (await res.json()) as { token?: string };
  if (!res.ok || !body.token) throw new Error(`cannot create the registry user: HTTP ${res.status} ${JSON.stringify(body)}`);
  const userconfig = join(workDir, 'npmrc');
  writeFileSync(userconfig, [`registry=${url}/`, `//127.0.0.1:${port}/:_authToken=${body.token}`, 'audit=false', 'fund=false', 'update-notifier=false', ''].join('\n'));
  return {
    url,
    userconfig,
    pid: child.pid!,
    env(extra = {}) {
      const env: NodeJS.ProcessEnv = { ...process.env, NPM_CONFIG_USERCONFIG: userconfig, npm_config_registry: `${url}/`, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', ...extra };
      // Do not let the test runner's own npm/vitest settings leak into the child processes.
      for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'NODE_OPTIONS' || key === 'FORCE_COLOR' || key === 'npm_config_userconfig') delete env[key];
      env.NO_COLOR = '1';
      return env;
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 5000).unref();
      });
    },
  };
}
