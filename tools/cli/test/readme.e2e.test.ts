/**
 * The README's "Other things to try" block, run line by line as a newcomer would: from the checkout,
 * through `npx sextant` (the bin npm links), against this checkout's build (`npm test` builds first).
 * Only temporary paths and ports are substituted (the README's 7070/7071/4318, /tmp, sextant.yaml,
 * ../my-collector); every other word runs as written. A line no case below knows fails the test, so
 * the README and this test cannot drift apart. Long-running commands are stopped by their process
 * group once they show they work.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, needBinary, needCondition, waitForPort } from '@sextant/testkit';

const repo = join(import.meta.dirname, '..', '..', '..');
const built = existsSync(join(repo, 'tools', 'cli', 'dist', 'bin.js')) && existsSync(join(repo, 'tools', 'builder', 'dist', 'index.js'));
const token = 'e2e-token-0123456789abcdefghijkl';
const tmp = mkdtempSync(join(tmpdir(), 'sextant-readme-'));
const config = join(tmp, 'sextant.yaml');
const ports = { api: 0, ingest: 0, otlp: 0, hook: 0 };
const hookBodies: string[] = [];
let hook: Server;
let background: ChildProcess | undefined;
const running = new Set<ChildProcess>();

/** The fenced block after "Other things to try", one command per entry, comments removed. */
function readmeLines(): string[] {
  const text = readFileSync(join(repo, 'README.md'), 'utf8');
  const start = text.indexOf('Other things to try');
  const open = text.indexOf('```sh\n', start);
  const close = text.indexOf('\n```', open + 6);
  if (start < 0 || open < 0 || close < 0) throw new Error('README.md has no "Other things to try" ```sh block');
  return text
    .slice(open + 6, close)
    .split('\n')
    .map((l) => l.replace(/\s+#\s.*$/, '').trim())
    .filter(Boolean);
}

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', T: token, npm_config_yes: 'false' };
  for (const key of Object.keys(e)) if (key.startsWith('VITEST') || key === 'NODE_OPTIONS') delete e[key];
  return e;
}

/** Ports and temporary paths only. */
function substitute(line: string): string {
  return line
    .replaceAll(' /tmp/', ` ${tmp}/`)
    .replaceAll('127.0.0.1:7070', `127.0.0.1:${ports.api}`)
    .replaceAll('127.0.0.1:7071', `127.0.0.1:${ports.ingest}`)
    .replaceAll('127.0.0.1:4318', `127.0.0.1:${ports.otlp}`)
    .replaceAll(' sextant.yaml', ` ${config}`)
    .replaceAll('../my-collector', join(tmp, 'my-collector'));
}

/** Runs a line to its end without blocking this process (the test's own webhook receiver must answer meanwhile). */
function runOnce(line: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', line], { cwd: repo, env: env(), encoding: 'utf8', timeout: 240_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const status = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : null) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

/** Starts a long-running line; resolves with its output once `ready` matches it (or rejects when it exits first). */
function runUntil(line: string, ready: RegExp, timeoutMs = 90_000): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn('sh', ['-c', `exec ${line}`], { cwd: repo, env: env(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after ${timeoutMs} ms: ${line}\n${out.slice(-2000)}`)), timeoutMs);
    const check = () => {
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve({ child, output: () => out });
      }
    };
    child.stdout!.on('data', (d) => ((out += String(d)), check()));
    child.stderr!.on('data', (d) => ((out += String(d)), check()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!ready.test(out)) reject(new Error(`exited with ${code} before it was ready: ${line}\n${out.slice(-2000)}`));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return void running.delete(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    // already gone
  }
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  running.delete(child);
}

/** A `sextant run` on ports.api for the lines that talk to a running Sextant (event, curl). */
async function ensureBackgroundRun(): Promise<void> {
  if (background) return;
  const started = await runUntil(`node tools/cli/bin/sextant.js run -c ${config} --port ${ports.api}`, /API listening on/);
  background = started.child;
  await waitForPort(ports.api);
}

interface Case {
  readonly match: RegExp;
  readonly run: (line: string, ctx: { skip: (note?: string) => void }) => Promise<void>;
}

const once =
  (expectOut: RegExp, exit = 0) =>
  async (line: string) => {
    const r = await runOnce(line);
    expect(r.status, `${line}\n${r.stdout}\n${r.stderr}`).toBe(exit);
    expect(`${r.stdout}\n${r.stderr}`).toMatch(expectOut);
  };

const until = (ready: RegExp) => async (line: string) => {
  const { child } = await runUntil(line, ready);
  await stop(child);
};

const cases: Case[] = [
  { match: /^npx sextant run --print samples --format jsonl$/, run: (l) => until(/^\{"metric":"system\./m)(`${l} --port 0`) },
  { match: /^npx sextant run --print samples --format table$/, run: (l) => until(/system\.cpu/)(`${l} --port 0`) },
  { match: /^npx sextant run --duration 30s --port 0$/, run: until(/API listening on http:\/\/127\.0\.0\.1:\d+/) },
  { match: /^npx sextant plugins list$/, run: once(/^host\s+0\.\d+\.\d+\s+collector/m) },
  // No container of that name exists here: the command must say so, not crash.
  { match: /^npx sextant plugins explain my-nginx$/, run: once(/no container "my-nginx"|my-nginx/, 1) },
  { match: /^npx sextant config check sextant\.yaml$/, run: once(/ok|valid|no problems/i) },
  { match: /^npx sextant server --insecure-loopback --token \$T$/, run: (l) => until(/ingest listening on 127\.0\.0\.1:\d+/)(`${l} --listen 127.0.0.1:${ports.ingest} -c ${config}`) },
  {
    match: /^npx sextant server --insecure-loopback --token \$T --otlp-http 127\.0\.0\.1:4318$/,
    run: async (l) => {
      const { child } = await runUntil(`${l} --listen 127.0.0.1:${ports.ingest} -c ${config}`, /ingest listening on/);
      await waitForPort(ports.otlp);
      await stop(child);
    },
  },
  {
    match: /^npx sextant agent --server 127\.0\.0\.1:7071 --insecure --token \$T$/,
    run: async (l) => {
      const server = await runUntil(`node tools/cli/bin/sextant.js server --insecure-loopback --token $T --listen 127.0.0.1:${ports.ingest} -c ${config}`, /ingest listening on/);
      try {
        const agent = spawn('sh', ['-c', `exec ${l}`], { cwd: repo, env: env(), detached: true, stdio: 'ignore' });
        running.add(agent);
        // The agent connects and sends; the server's own metrics then count accepted samples from it.
        let accepted = 0;
        for (let i = 0; i < 60 && accepted === 0; i++) {
          await new Promise((r) => setTimeout(r, 1000));
          expect(agent.exitCode, 'the agent exited early').toBeNull();
          const text = await fetch(`http://127.0.0.1:${ports.api}/metrics`).then((r) => r.text(), () => '');
          accepted = text.split('\n').filter((m) => /^sextant_samples_accepted_total/.test(m)).reduce((n, m) => n + Number(m.split(' ').pop()), 0);
        }
        await stop(agent);
        expect(accepted).toBeGreaterThan(0);
      } finally {
        await stop(server.child);
      }
    },
  },
  {
    match: /^npx sextant event --type deploy --service api --version 1\.4\.2 --token \$T$/,
    run: async (l) => {
      await ensureBackgroundRun();
      await once(/deploy|event|recorded/i)(`${l} --api http://127.0.0.1:${ports.api}`);
      const events = (await (await fetch(`http://127.0.0.1:${ports.api}/api/v1/events`)).json()) as unknown;
      expect(JSON.stringify(events)).toContain('1.4.2');
    },
  },
  {
    match: /^npx sextant notify test webhook\/ops -c sextant\.yaml$/,
    run: async (l) => {
      hookBodies.length = 0;
      await once(/webhook\/ops/)(l);
      expect(hookBodies.length).toBeGreaterThan(0);
    },
  },
  {
    match: /^export SEXTANT_DATA_DIR=/,
    // CI sets SEXTANT_DATA_DIR itself; the README's relative value is for a person next to the data.
    run: async () => {},
  },
  {
    match: /^npx sextant eval nab /,
    run: async (l, ctx) => {
      needCondition(ctx, Boolean(process.env.SEXTANT_DATA_DIR), 'SEXTANT_DATA_DIR is not set (the folder holding nab/ and petshop/)');
      await once(/score/i)(l);
    },
  },
  {
    match: /^npx sextant eval rca /,
    run: async (l, ctx) => {
      needCondition(ctx, Boolean(process.env.SEXTANT_DATA_DIR), 'SEXTANT_DATA_DIR is not set (the folder holding nab/ and petshop/)');
      await once(/^overall\s+\d+\s+[01]\.\d\d/m)(l);
    },
  },
  { match: /^npx sextant demo$/, run: once(/incidents found/) },
  {
    match: /^npx sextant new plugin my-collector --kind collector --dir \.\.\/my-collector$/,
    run: async (l) => {
      await once(/my-collector/)(l);
      expect(existsSync(join(tmp, 'my-collector', 'package.json'))).toBe(true);
    },
  },
  {
    match: /^npx sextant build tools\/builder\/examples\/distribution\.yaml --workspace \. --no-install --bundle --out \/tmp\/acme-sextant$/,
    run: async (l) => {
      await once(/bundle: /)(l);
      const bundle = join(tmp, 'acme-sextant', 'bundle', 'acme-sextant.mjs');
      // It runs alone: only the bundle and package.json, no node_modules.
      const alone = join(tmp, 'alone');
      mkdirSync(join(alone, 'bundle'), { recursive: true });
      cpSync(bundle, join(alone, 'bundle', 'acme-sextant.mjs'));
      cpSync(join(tmp, 'acme-sextant', 'package.json'), join(alone, 'package.json'));
      const r = spawnSync(process.execPath, ['bundle/acme-sextant.mjs', 'plugins', 'list'], { cwd: alone, encoding: 'utf8', env: env() });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^redis\s/m);
    },
  },
  {
    match: /^node \/tmp\/acme-sextant\/bundle\/acme-sextant\.mjs plugins list$/,
    run: once(/^nginx\s/m),
  },
  {
    match: /^curl -s 127\.0\.0\.1:7070\/api\/v1\/plugins$/,
    run: async (l, ctx) => {
      needBinary(ctx, 'curl', 'apt-get install curl');
      await ensureBackgroundRun();
      const r = await runOnce(l);
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toHaveProperty('plugins');
    },
  },
  {
    match: /^curl -s 127\.0\.0\.1:7070\/metrics$/,
    run: async (l, ctx) => {
      needBinary(ctx, 'curl', 'apt-get install curl');
      await ensureBackgroundRun();
      await once(/^# (HELP|TYPE) sextant_/m)(l);
    },
  },
];

beforeAll(async () => {
  ports.api = await freePort();
  ports.ingest = await freePort();
  ports.otlp = await freePort();
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += String(d)));
    req.on('end', () => {
      hookBodies.push(body);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  ports.hook = (hook.address() as { port: number }).port;
  writeFileSync(
    config,
    [
      `server: { host: 127.0.0.1, port: ${ports.api}, token: "${token}" }`,
      `dataDir: ${join(tmp, 'data')}`,
      'notifiers:',
      `  webhook/ops: { url: "http://127.0.0.1:${ports.hook}/hook", allow: ["127.0.0.1"], secret: "e2e-webhook-signing-secret" }`,
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  for (const child of [...running]) await stop(child);
  await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('README "Other things to try", as written', () => {
  it('has a case for every line (so a changed README line cannot go untested)', () => {
    const lines = readmeLines();
    expect(lines.length).toBeGreaterThan(10);
    const unknown = lines.filter((l) => !/^npm run bench\b/.test(l) && !cases.some((c) => c.match.test(l)));
    expect(unknown).toEqual([]);
  });

  for (const line of readmeLines()) {
    if (/^npm run bench\b/.test(line)) continue; // builds and runs every benchmark for minutes: tools/bench's own tests cover it
    const c = cases.find((k) => k.match.test(line));
    if (!c) continue;
    it(line, async (ctx) => {
      needCondition(ctx, built, 'the CLI is not built; run npm run build (npm test does)');
      await c.run(substitute(line), ctx);
    });
  }
});

describe('the sextant bin shim', () => {
  it('says how to build, with exit status 2, when dist is missing', () => {
    const copy = join(tmp, 'shim-only', 'bin');
    mkdirSync(copy, { recursive: true });
    cpSync(join(repo, 'tools', 'cli', 'bin', 'sextant.js'), join(copy, 'sextant.js'));
    const r = spawnSync(process.execPath, [join(copy, 'sextant.js'), 'plugins', 'list'], { encoding: 'utf8', env: env() });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Sextant is not built yet: run `npm run build` (or `npm start`)');
  });

  it('is what npm linked as node_modules/.bin/sextant', () => {
    const linked = join(repo, 'node_modules', '.bin', 'sextant');
    expect(readFileSync(linked, 'utf8')).toBe(readFileSync(join(repo, 'tools', 'cli', 'bin', 'sextant.js'), 'utf8'));
  });
});

describe('npm start (build:run) builds what `sextant run` loads', () => {
  /** Workspace package folders, from the root package.json's `workspaces` globs. */
  function workspacePackages(): { name: string; dir: string; pkg: Record<string, unknown> }[] {
    const root = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { workspaces: string[] };
    const out: { name: string; dir: string; pkg: Record<string, unknown> }[] = [];
    for (const glob of root.workspaces) {
      const parent = join(repo, glob.replace(/\/\*$/, ''));
      for (const entry of existsSync(parent) ? readdirSync(parent) : []) {
        const file = join(parent, entry, 'package.json');
        if (!existsSync(file)) continue;
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        out.push({ name: String(pkg.name), dir: join(parent, entry), pkg });
      }
    }
    return out;
  }

  it('selects every workspace plugin (a plugin left unbuilt would print a load error on every start)', () => {
    const script = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['build:run'];
    const selectors = /--projects=(\S+)/.exec(script)![1].split(',');
    const packages = workspacePackages();
    const byName = new Map(packages.map((p) => [p.name, p]));
    // The CLI's own dependency closure is built by nx anyway (dependsOn ^build).
    const closure = new Set<string>();
    const visit = (name: string) => {
      if (closure.has(name) || !byName.has(name)) return;
      closure.add(name);
      for (const dep of Object.keys((byName.get(name)!.pkg.dependencies as Record<string, string>) ?? {})) visit(dep);
    };
    for (const s of selectors) if (!s.startsWith('tag:')) visit(s);
    const tags = selectors.filter((s) => s.startsWith('tag:')).map((s) => s.slice(4));
    const missed = packages
      .filter((p) => p.pkg.sextant !== undefined)
      .filter((p) => !closure.has(p.name) && !((p.pkg.nx as { tags?: string[] } | undefined)?.tags ?? []).some((t) => tags.includes(t)))
      .map((p) => p.name);
    expect(missed).toEqual([]);
  });
});
