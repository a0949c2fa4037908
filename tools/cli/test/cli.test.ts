/**
 * The `sextant` command as a user runs it: the built binary in a child process.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(repo, 'tools/cli/dist/bin.js');
let work: string;

function sextant(args: string[], opts: { timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Starts `sextant run` and resolves once its API answers, with the URL. */
async function startRun(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [bin, 'run', '--port', '0', ...args], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.resume();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const m = /API listening on (http:\/\/[^\s]+)/.exec(stderr);
    if (m) return { child, url: m[1], stderr: () => stderr };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`sextant run did not start: ${stderr}`);
}

beforeAll(() => {
  execFileSync('npx', ['tsc', '-b', join(repo, 'tools/cli/tsconfig.lib.json')], { cwd: repo, stdio: 'inherit' });
  work = mkdtempSync(join(tmpdir(), 'sextant-cli-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('sextant run', () => {
  it('prints every sample as one JSON line with the documented fields and stops after --duration', async () => {
    const r = await sextant(['run', '--port', '0', '--interval', '500ms', '--duration', '2s', '--print', 'samples', '--format', 'jsonl', '--log-level', 'warn']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(20);
    for (const l of lines) expect(Object.keys(l)).toEqual(['metric', 'unit', 'resource', 'attributes', 'timestamp', 'value']);
    const metrics = new Set(lines.map((l) => l.metric));
    for (const m of ['system.cpu.utilization', 'system.memory.usage', 'system.network.io', 'system.filesystem.usage']) expect(metrics).toContain(m);
    expect((lines[0].resource as Record<string, unknown>)['host.name']).toBeTruthy();
    // Two or more rounds in 2 s at 500 ms: CPU utilisation needs two readings and must be a ratio.
    const cpu = lines.filter((l) => l.metric === 'system.cpu.utilization').map((l) => l.value as number);
    expect(cpu.length).toBeGreaterThan(0);
    for (const v of cpu) expect(v).toBeGreaterThanOrEqual(0), expect(v).toBeLessThanOrEqual(1);
  });

  it('serves the HTTP API and stops cleanly on SIGTERM', async () => {
    const { child, url } = await startRun(['--interval', '500ms', '--log-level', 'info']);
    try {
      const health = (await (await fetch(`${url}/healthz`)).json()) as Record<string, unknown>;
      expect(health.status).toBe('ok');
      await new Promise((r) => setTimeout(r, 1500));
      const plugins = (await (await fetch(`${url}/api/v1/plugins`)).json()) as { instances: { id: string; state: string }[]; plugins: { id: string }[] };
      expect(plugins.instances).toContainEqual(expect.objectContaining({ id: 'host', state: 'ok' }));
      const series = (await (await fetch(`${url}/api/v1/series?metric=system.memory.usage&system.memory.state=used`)).json()) as { series: { id: number; attributes: Record<string, string> }[] };
      expect(series.series).toHaveLength(1);
      expect(series.series[0].attributes['system.memory.state']).toBe('used');
      const samples = (await (await fetch(`${url}/api/v1/series/${series.series[0].id}/samples?from=-1m`)).json()) as { samples: { value: number }[] };
      expect(samples.samples.length).toBeGreaterThanOrEqual(2);
      expect(samples.samples[0].value).toBeGreaterThan(0);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^sextant_samples_accepted_total\{source="host"\} \d+/m);
      expect(metrics).toMatch(/^sextant_plugin_status\{instance="host",plugin="host",state="ok"\} 1$/m);
      expect(metrics).toContain('# TYPE sextant_pipeline_latency_seconds histogram');
      const missing = await fetch(`${url}/api/v1/series/999999/samples`);
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('SEXTANT_ERR_BAD_REQUEST');
      const write = await fetch(`${url}/api/v1/events`, { method: 'POST', body: '{}' });
      expect(write.status).toBe(403);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
  });

  it('refuses an invalid config with exit status 2 and every problem listed, before anything starts', async () => {
    const file = join(work, 'bad.yaml');
    writeFileSync(file, ['interval: sometimes', 'server: { port: 99999, colour: blue }', 'collectors:', '  hots: {}', '  host: { perCpu: maybe }', 'detectors: { baseline: { enabled: yes-please } }', ''].join('\n'));
    const r = await sextant(['run', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SEXTANT_ERR_CONFIG_INVALID');
    expect(r.stderr).toContain('interval: must be a duration such as "5s"');
    expect(r.stderr).toContain('server.port');
    expect(r.stderr).toContain('colour');
    expect(r.stderr).not.toContain('API listening');
    const check = await sextant(['config', 'check', file]);
    expect(check.code).toBe(2);
    expect(check.stderr).toBe(r.stderr);
  });

  it('checks component settings against each plugin schema, with did-you-mean', async () => {
    const file = join(work, 'components.yaml');
    writeFileSync(file, ['collectors:', '  hots: {}', '  host: { perCpu: maybe }', ''].join('\n'));
    const r = await sextant(['config', 'check', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/collectors\.hots: no collector of type "hots" is installed\n\s+hint: did you mean "host"\?/);
    expect(r.stderr).toContain('collectors.host.perCpu');
    const good = join(work, 'good.yaml');
    writeFileSync(good, 'interval: 5s\ncollectors:\n  host: {}\n');
    const ok = await sextant(['config', 'check', good]);
    // the file has no detectors/correlators sections: the default analysis runs, and config check says so
    expect(ok.stdout).toContain('valid (4 component instances)');
    expect(ok.stdout).toMatch(/no detectors: section, so the defaults run: baseline, peer-outlier/);
    expect(ok.code).toBe(0);
  });

  it('lists top-level, component and unknown-setting problems in one run', async () => {
    const file = join(work, 'everything-wrong.yaml');
    writeFileSync(file, ['interval: sometimes', 'collectors:', '  host: { intervall: 5s }', 'detectors:', '  baseline: { treshold: 0.5 }', ''].join('\n'));
    for (const args of [['config', 'check', file], ['run', '--config', file]]) {
      const r = await sextant(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('interval: must be a duration');
      expect(r.stderr).toMatch(/collectors\.host\.intervall: unknown setting "intervall"/);
      expect(r.stderr).toMatch(/detectors\.baseline\.treshold: unknown setting "treshold"[\s\S]*did you mean "threshold"\?/);
    }
  });

  it('runs the README sample config as written: no token needed, analysis included', async () => {
    const file = join(work, 'readme.yaml');
    writeFileSync(file, ['interval: 10s', 'server: { host: 127.0.0.1, port: 0, token: "${env:SEXTANT_TOKEN:-}" }', 'collectors:', '  host: {}', ''].join('\n'));
    const check = await sextant(['config', 'check', file]);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    const run = await startRun(['--config', file]);
    try {
      const plugins = (await (await fetch(`${run.url}/api/v1/plugins`)).json()) as { instances: { id: string }[] };
      expect(plugins.instances.map((i) => i.id)).toEqual(expect.arrayContaining(['host', 'baseline', 'peer-outlier', 'incidents']));
      expect(run.stderr()).toMatch(/has no detectors: section; using the defaults \(baseline, peer-outlier\)/);
    } finally {
      run.child.kill('SIGTERM');
    }
  });

  it('takes feedback on a series from the command line and exports it', async () => {
    const token = 'feedback-token-0123456789';
    const file = join(work, 'feedback.yaml');
    writeFileSync(file, [`server: { host: 127.0.0.1, port: 0, token: "${token}" }`, 'interval: 500ms', 'collectors:', '  host: {}', ''].join('\n'));
    const run = await startRun(['--config', file]);
    try {
      let id: number | undefined;
      for (let i = 0; i < 100 && id === undefined; i++) {
        const body = (await (await fetch(`${run.url}/api/v1/series?metric=system.memory.usage`)).json()) as { series: { id: number; expectation: unknown }[] };
        id = body.series.find((s) => s.expectation !== null)?.id;
        if (id === undefined) await new Promise((r) => setTimeout(r, 200));
      }
      expect(id).toBeDefined();
      const refused = await sextant(['feedback', 'missed-here', '--series', String(id), '--api', run.url, '--token', 'wrong-token-wrong-token']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/missing or wrong token/);
      const ok = await sextant(['feedback', 'missed-here', '--series', String(id), '--api', run.url, '--token', token]);
      expect(ok.stderr).toBe('');
      expect(ok.stdout).toMatch(new RegExp(`baseline: series ${id} now alerts at score 0\\.\\d\\d`));
      expect(ok.code).toBe(0);
      const exported = await sextant(['feedback', '--export', '--api', run.url]);
      const records = exported.stdout.trim().split('\n').map((l) => JSON.parse(l) as { detector: string; series: number; verdict: string });
      expect(records).toContainEqual(expect.objectContaining({ detector: 'baseline', series: id, verdict: 'missed-here' }));
      const usage = await sextant(['feedback', 'sure', '--series', '1']);
      expect(usage.code).toBe(2);
    } finally {
      run.child.kill('SIGTERM');
    }
  });

  it('resolves ${env:NAME} references and reports missing ones', async () => {
    const file = join(work, 'env.yaml');
    writeFileSync(file, 'server:\n  token: ${env:SEXTANT_TEST_SURELY_UNSET}\n');
    const r = await sextant(['config', 'check', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('environment variable SEXTANT_TEST_SURELY_UNSET is not set');
  });
});

describe('sextant plugins and help', () => {
  it('lists built-in and installed plugins as JSON with kinds, stability and where they were found', async () => {
    const r = await sextant(['plugins', 'list', '--json']);
    expect(r.code).toBe(0);
    const { plugins } = JSON.parse(r.stdout) as { plugins: { id: string; source: string; kinds: string[]; compatible: boolean; factories: { stability: string }[] }[] };
    expect(plugins).toContainEqual(expect.objectContaining({ id: 'host', source: 'builtin', kinds: ['collector'], compatible: true }));
  });

  it('has --help for every command, and a clear error for unknown ones', async () => {
    const overview = await sextant(['--help']);
    expect(overview.code).toBe(0);
    const names = [...overview.stdout.matchAll(/^ {2}([a-z]+(?: [a-z]+)?)\s{2,}/gm)].map((m) => m[1].trim());
    expect(names).toEqual(expect.arrayContaining(['run', 'plugins list', 'plugins status', 'config check']));
    for (const name of names) {
      const h = await sextant([...name.split(' '), '--help']);
      expect(h.code, name).toBe(0);
      expect(h.stdout).toContain(`Usage: sextant ${name}`);
    }
    const bad = await sextant(['frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command "frobnicate"');
    const badFlag = await sextant(['run', '--frobnicate']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("Unknown option '--frobnicate'");
  });

  it('plugins status reads a running instance and says clearly when none runs', async () => {
    const none = await sextant(['plugins', 'status', '--api', 'http://127.0.0.1:9']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('is "sextant run" running?');
    const { child, url } = await startRun(['--log-level', 'info']);
    try {
      const r = await sextant(['plugins', 'status', '--api', url]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^INSTANCE\s+KIND\s+PLUGIN/m);
      expect(r.stdout).toMatch(/^host\s+collector\s+host\s+in-process\s+ok/m);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
