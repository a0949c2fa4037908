/**
 * The distributed roles and out-of-process plugins, as a user runs them: `sextant server` +
 * `sextant agent` over gRPC, `isolation: process`, `sextant event`, `sextant eval`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { needCondition } from '@sextant/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(repo, 'tools/cli/dist/bin.js');
const TOKEN = 'role-test-token-0123456789';
let work: string;
const children: ChildProcess[] = [];

interface Started {
  child: ChildProcess;
  stderr: () => string;
  wait: (re: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>;
}

function start(args: string[], env: Record<string, string> = {}): Started {
  const child = spawn(process.execPath, [bin, ...args], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.on('data', (d) => (stderr += d));
  return {
    child,
    stderr: () => stderr,
    async wait(re, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const m = re.exec(stderr);
        if (m) return m;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no ${re} in output of sextant ${args.join(' ')}:\n${stderr}`);
    },
  };
}

async function stop(s: Started): Promise<number | null> {
  if (s.child.exitCode !== null) return s.child.exitCode;
  s.child.kill('SIGTERM');
  return new Promise((r) => s.child.once('exit', (code) => r(code)));
}

function run(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [bin, ...args], { cwd: work, encoding: 'utf8', stdio: 'pipe', env: { ...process.env, ...env }, timeout: 120_000 });
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Like run(), without blocking this process (needed when the test itself serves the CLI's requests). */
function runAsync(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

async function getJson<T>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}

async function until<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(() => {
  execFileSync('npx', ['tsc', '-b', join(repo, 'tools/cli/tsconfig.lib.json')], { cwd: repo, stdio: 'inherit' });
  work = mkdtempSync(join(tmpdir(), 'sextant-roles-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('sextant server + agent', () => {
  it('ships host metrics, events and topology from an agent to a server over gRPC with a token', async () => {
    const server = start(['server', '--insecure-loopback', '--listen', '127.0.0.1:0', '--port', '0', '--token', TOKEN]);
    const ingest = (await server.wait(/ingest listening on (\S+)/))[1];
    const api = (await server.wait(/API listening on (http:\/\/\S+)/))[1];
    const agent = start(['agent', '--server', ingest, '--insecure', '--token', TOKEN, '--source-id', 'agent:test-1'], { SEXTANT_TOKEN: '' });
    await agent.wait(/shipping to/);
    const series = await until(async () => {
      const body = await getJson<{ series: { source: string; resource: Record<string, string> }[] }>(`${api}/api/v1/series?metric=system.memory.usage`);
      return body.series.length > 0 ? body.series : undefined;
    }, 'host series on the server');
    expect(series[0].source).toBe('agent:test-1');
    expect(series[0].resource['host.name']).toBeTruthy();
    const topology = await getJson<{ entities: { type: string }[] }>(`${api}/api/v1/topology`);
    expect(topology.entities.some((e) => e.type === 'host')).toBe(true);
    // An agent with the wrong token is refused, and the server counts it.
    const intruder = start(['agent', '--server', ingest, '--insecure', '--token', 'not-the-right-token-xyz']);
    await until(async () => {
      const stats = await getJson<{ rejected: Record<string, number> }>(`${api}/api/v1/ingest`);
      return stats.rejected.unauthenticated > 0 ? true : undefined;
    }, 'an unauthenticated refusal');
    await stop(intruder);
    expect(await stop(agent)).toBe(0);
    const stats = await getJson<{ accepted: number; duplicates: number; received: number }>(`${api}/api/v1/ingest`);
    expect(stats.accepted).toBeGreaterThan(0);
    expect(await stop(server)).toBe(0);
  });

  it('runs the collectors its file names (receivers live there), not the default host ones', async () => {
    const cfg = join(work, 'server-collectors.yaml');
    writeFileSync(cfg, ['collectors:', '  random/demo: { streams: 2, interval: 1s }', ''].join('\n'));
    const server = start(['server', '--insecure-loopback', '--listen', '127.0.0.1:0', '--port', '0', '--token', TOKEN, '--config', cfg]);
    const api = (await server.wait(/API listening on (http:\/\/\S+)/))[1];
    const plugins = await getJson<{ instances: { id: string }[] }>(`${api}/api/v1/plugins`);
    const ids = plugins.instances.map((i) => i.id);
    expect(ids).toContain('random/demo');
    expect(ids).not.toContain('host');
    expect(ids).toEqual(expect.arrayContaining(['baseline', 'incidents']));
    expect(await stop(server)).toBe(0);
  });

  it('refuses to start a server without TLS unless told it is a loopback try', () => {
    const r = run(['server', '--token', TOKEN]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('give --tls-cert and --tls-key, or --insecure-loopback');
  });
});

describe('isolation: process', () => {
  it('runs an installed plugin as a supervised child and its samples arrive like in-process ones', async () => {
    const cfg = join(work, 'process.yaml');
    writeFileSync(cfg, ['interval: 1s', 'collectors:', '  random/child: { isolation: process, streams: 2, seed: 7, service: child }', '  random/local: { streams: 2, seed: 7, service: local }', ''].join('\n'));
    const r = start(['run', '--config', cfg, '--port', '0', '--print', 'samples', '--format', 'jsonl']);
    const api = (await r.wait(/API listening on (http:\/\/\S+)/))[1];
    const status = await until(async () => {
      const body = await getJson<{ instances: { id: string; isolation: string; state: string; collections: number }[] }>(`${api}/api/v1/plugins`);
      const child = body.instances.find((i) => i.id === 'random/child');
      return child && child.collections >= 2 ? body.instances : undefined;
    }, 'two collections from the child');
    expect(status.find((i) => i.id === 'random/child')).toMatchObject({ isolation: 'process', state: 'ok' });
    // kill -9 the child: it is restarted, the restart is visible in the API, samples keep flowing.
    type Inst = { id: string; state: string; collections: number; restarts: number; process?: { pid?: number; restarts?: number } };
    const before = (await getJson<{ instances: Inst[] }>(`${api}/api/v1/plugins`)).instances.find((i) => i.id === 'random/child')!;
    expect(before.process?.pid).toBeGreaterThan(0);
    const printedBeforeKill = r.stderr();
    process.kill(before.process!.pid!, 'SIGKILL');
    const after = await until(async () => {
      const inst = (await getJson<{ instances: Inst[] }>(`${api}/api/v1/plugins`)).instances.find((i) => i.id === 'random/child')!;
      return inst.restarts >= 1 && inst.state === 'ok' && inst.process?.pid !== before.process!.pid && inst.collections > before.collections + 1 ? inst : undefined;
    }, 'the child restarted and collecting again');
    expect(after.process?.restarts).toBeGreaterThanOrEqual(1);
    const table = run(['plugins', 'status', '--api', api]);
    expect(table.stdout).toMatch(/^random\/child\s+collector\s+example-random\s+process\s+ok\s+[1-9]/m);
    expect(await stop(r)).toBe(0);
    // Parity is checked on what was printed before the kill (a restarted child starts its walk again).
    const lines = printedBeforeKill.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { metric: string; attributes: Record<string, number>; value: number; resource: Record<string, string> });
    const values = (service: string, stream: number) => lines.filter((l) => l.metric === 'example.random.value' && l.resource['service.name'] === service && l.attributes.stream === stream).map((l) => l.value);
    // The same seed in both isolation modes: the same walk, value for value.
    for (const stream of [0, 1]) {
      const child = values('child', stream);
      const local = values('local', stream);
      const n = Math.min(child.length, local.length);
      expect(n).toBeGreaterThanOrEqual(2);
      expect(child.slice(0, n)).toEqual(local.slice(0, n));
    }
    expect(values('child', 0)).not.toEqual(values('child', 1).slice(0, values('child', 0).length));
  });
});

describe('sextant event', () => {
  it('records a deploy in a running Sextant, and refuses without a token', async () => {
    const cfg = join(work, 'events.yaml');
    writeFileSync(cfg, `server: { token: ${TOKEN} }\ncollectors: {}\n`);
    const r = start(['run', '--config', cfg, '--port', '0']);
    const api = (await r.wait(/API listening on (http:\/\/\S+)/))[1];
    const denied = run(['event', '--service', 'checkout', '--api', api, '--token', 'wrong-token-wrong-token']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('SEXTANT_ERR_UNAUTHORIZED');
    const ok = run(['event', '--type', 'deploy', '--service', 'checkout', '--version', '2.4.1', '--attr', 'commit=abc123', '--api', api, '--token', TOKEN]);
    expect(ok.stdout).toMatch(/recorded deploy event evt-\S+: deploy of checkout 2\.4\.1/);
    const events = await getJson<{ events: { type: string; resource: Record<string, string>; attributes: Record<string, string> }[] }>(`${api}/api/v1/events?type=deploy`);
    expect(events.events[0]).toMatchObject({ resource: { 'service.name': 'checkout', 'service.version': '2.4.1' }, attributes: { commit: 'abc123' } });
    expect(await stop(r)).toBe(0);
  });
});

describe('sextant eval', () => {
  it('writes the NAB result layout for any category and scores labelled data', () => {
    const data = join(work, 'nab');
    mkdirSync(join(data, 'data', 'unseenCategory'), { recursive: true });
    mkdirSync(join(data, 'labels'), { recursive: true });
    const rows = ['timestamp,value'];
    for (let i = 0; i < 600; i++) {
      const t = new Date(Date.UTC(2026, 0, 1) + i * 300_000).toISOString().replace('T', ' ').slice(0, 19);
      rows.push(`${t},${(i >= 450 && i < 460 ? 80 : 10 + Math.sin(i / 10)).toFixed(3)}`);
    }
    writeFileSync(join(data, 'data', 'unseenCategory', 'series_a.csv'), `${rows.join('\n')}\n`);
    const win = [rows[446].split(',')[0], rows[470].split(',')[0]];
    writeFileSync(join(data, 'labels', 'windows.json'), JSON.stringify({ 'unseenCategory/series_a.csv': [win] }));
    const out = join(work, 'nab-out');
    const r = run(['eval', 'nab', '--data', data, '--out', out, '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { files: number; rows: number; scores: { standard: number } };
    expect(result).toMatchObject({ files: 1, rows: 600 });
    expect(typeof result.scores.standard).toBe('number');
    const written = readFileSync(join(out, 'sextant', 'unseenCategory', 'sextant_series_a.csv'), 'utf8').trim().split('\n');
    expect(written[0]).toBe('timestamp,value,anomaly_score');
    expect(written).toHaveLength(601);
    expect(readdirSync(join(out, 'sextant'))).toEqual(['unseenCategory']);
  });

  it('scores leave-one-category-out with --cv categories, beside the in-sample figures', () => {
    const data = join(work, 'nab-cv');
    const rows = ['timestamp,value'];
    for (let i = 0; i < 600; i++) {
      const t = new Date(Date.UTC(2026, 0, 1) + i * 300_000).toISOString().replace('T', ' ').slice(0, 19);
      rows.push(`${t},${(i >= 450 && i < 460 ? 80 : 10 + Math.sin(i / 10)).toFixed(3)}`);
    }
    const win = [rows[446].split(',')[0], rows[470].split(',')[0]];
    const labels: Record<string, string[][]> = {};
    // The same series under two categories: each one's threshold, chosen on the other, fits it.
    for (const category of ['twinA', 'twinB']) {
      mkdirSync(join(data, 'data', category), { recursive: true });
      writeFileSync(join(data, 'data', category, 'series.csv'), `${rows.join('\n')}\n`);
      labels[`${category}/series.csv`] = [win];
    }
    mkdirSync(join(data, 'labels'), { recursive: true });
    writeFileSync(join(data, 'labels', 'windows.json'), JSON.stringify(labels));
    const out = join(work, 'nab-cv-out');
    const r = run(['eval', 'nab', '--data', data, '--out', out, '--cv', 'categories', '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as {
      scores: { standard: number };
      crossValidation: { scheme: string; standard: { mean: number; worst: number; threshold: number; folds: { category: string; score: number; windows: number }[] } };
    };
    expect(result.crossValidation.scheme).toBe('categories');
    expect(result.crossValidation.standard.folds.map((f) => f.category)).toEqual(['twinA', 'twinB']);
    expect(result.crossValidation.standard.folds.every((f) => f.windows === 1)).toBe(true);
    expect(result.crossValidation.standard.mean).toBeCloseTo(result.scores.standard, 6);
    const text = run(['eval', 'nab', '--data', data, '--out', out, '--cv', 'categories']);
    expect(text.stdout).toContain('cross-validated');
    expect(text.stdout).toMatch(/twinA\s+in-sample\s+[\d.]+\s+CV\s+[\d.]+/);
    const bad = run(['eval', 'nab', '--data', data, '--out', out, '--cv', 'files']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('known: categories');
  });

  it('ranks root causes over the PetShop data and prints the documented JSON', (ctx) => {
    const dataDir = process.env.SEXTANT_DATA_DIR;
    const data = dataDir ? join(dataDir, 'petshop') : '';
    needCondition(ctx, dataDir !== undefined && existsSync(data), dataDir ? `the PetShop data is not at ${data}` : 'SEXTANT_DATA_DIR is not set (the folder that holds petshop/)');
    const r = run(['eval', 'rca', '--data', data, '--json']);
    expect(r.code).toBe(0);
    const { rows } = JSON.parse(r.stdout) as { rows: { scenario: string; metric: string; split: string; issues: number; top1: number; top3: number }[] };
    expect(rows.length).toBeGreaterThanOrEqual(8);
    for (const row of rows) {
      expect(Object.keys(row).sort()).toEqual(['issues', 'metric', 'scenario', 'split', 'top1', 'top3']);
      expect(row.top3).toBeGreaterThanOrEqual(row.top1);
    }
  });
});

describe('sextant notify test', () => {
  it('sends a signed sample incident through the configured webhook notifier, and reports a refusal', async () => {
    const { createServer } = await import('node:http');
    const received: { headers: Record<string, unknown>; body: Record<string, unknown> }[] = [];
    let status = 200;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(body) as Record<string, unknown> });
        res.writeHead(status).end(status === 200 ? 'ok' : 'bad payload');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const cfg = join(work, 'notify.yaml');
      writeFileSync(cfg, ['collectors: {}', 'notifiers:', `  webhook/ops: { url: "http://127.0.0.1:${port}/hook", secret: "\${env:HOOK_SECRET}", allow: ["127.0.0.1"] }`, ''].join('\n'));
      const ok = await runAsync(['notify', 'test', 'webhook/ops', '--config', cfg], { HOOK_SECRET: 'a-very-secret-signing-key' });
      expect(ok.stdout).toMatch(/^webhook\/ops: delivered in \d+ ms/);
      expect(ok.code).toBe(0);
      expect(received).toHaveLength(1);
      expect(received[0].body).toMatchObject({ schema: 'sextant.incident.v1', change: 'opened', sequence: 1 });
      expect(String(received[0].headers['webhook-signature'])).toMatch(/^v1,/);
      expect(`${ok.stdout}${ok.stderr}`).not.toContain('a-very-secret-signing-key');
      status = 400;
      const refused = await runAsync(['notify', 'test', 'webhook/ops', '--config', cfg], { HOOK_SECRET: 'a-very-secret-signing-key' });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/delivery failed after \d+ ms \(not retryable\)/);
      const unknown = run(['notify', 'test', 'pager', '--config', cfg], { HOOK_SECRET: 'a-very-secret-signing-key' });
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('no notifier "pager"');
    } finally {
      server.close();
    }
  });
});
