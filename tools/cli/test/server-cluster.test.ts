/**
 * `sextant server --store redis://...` as a user runs it: two members of one group on a real
 * redis-server, an agent shipping to one of them; both analyse, both report the group.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary, freePort, needBinary, waitForPort } from '@sextant/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(repo, 'tools/cli/dist/bin.js');
const TOKEN = 'cluster-test-token-0123456789';
let work: string;
const children: ChildProcess[] = [];

function start(args: string[]): { child: ChildProcess; output: () => string; wait: (re: RegExp, ms?: number) => Promise<RegExpExecArray> } {
  const child = spawn(process.execPath, [bin, ...args], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SEXTANT_TOKEN: '' } });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return {
    child,
    output: () => out,
    async wait(re, ms = 60_000) {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const m = re.exec(out);
        if (m) return m;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no ${re} in the output of sextant ${args.join(' ')}:\n${out}`);
    },
  };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

interface ClusterView {
  members: string[];
  owned: { partition: number }[];
  processed: { processed: number };
  ingest: { appended: number };
}

async function view(api: string): Promise<ClusterView> {
  return (await (await fetch(`${api}/api/v1/cluster`)).json()) as ClusterView;
}

async function until(what: string, check: () => Promise<boolean>, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('sextant server --store (a group of two servers on real Redis)', () => {
  let redis: ChildProcess | undefined;
  let port = 0;
  beforeAll(async () => {
    execFileSync('npx', ['tsc', '-b', join(repo, 'tools/cli/tsconfig.lib.json')], { cwd: repo, stdio: 'inherit' });
    work = mkdtempSync(join(tmpdir(), 'sextant-cluster-cli-'));
    if (!findBinary('redis-server')) return;
    port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work], { stdio: 'ignore' });
    await waitForPort(port);
  }, 600_000);
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    if (redis?.pid !== undefined && redis.exitCode === null) process.kill(redis.pid, 'SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  it('splits an agent\'s series over both members, reports the group, and hands over on a clean stop (slow: about a minute)', async (ctx) => {
    needBinary(ctx, 'redis-server', 'apt-get install redis-server');
    const store = `redis://127.0.0.1:${port}`;
    const member = (id: string) => start(['server', '--insecure-loopback', '--listen', '127.0.0.1:0', '--port', '0', '--token', TOKEN, '--store', store, '--member-id', id]);
    const one = member('one');
    const two = member('two');
    const ingest = (await one.wait(/ingest listening on (\S+)/))[1];
    const api1 = (await one.wait(/API listening on (http:\/\/\S+)/))[1];
    const api2 = (await two.wait(/API listening on (http:\/\/\S+)/))[1];
    await until('both members see each other and share the 64 partitions', async () => {
      const [a, b] = await Promise.all([view(api1), view(api2)]);
      return a.members.length === 2 && b.members.length === 2 && a.owned.length + b.owned.length === 64;
    });
    const agent = start(['agent', '--server', ingest, '--insecure', '--token', TOKEN, '--source-id', 'agent:cluster-test']);
    await agent.wait(/shipping to/);
    // Everything arrives at member one; the partitions member two owns are analysed there.
    await until('both members process the agent\'s series', async () => {
      const [a, b] = await Promise.all([view(api1), view(api2)]);
      return a.ingest.appended > 0 && a.processed.processed > 0 && b.processed.processed > 0;
    });
    const metrics = await (await fetch(`${api2}/metrics`)).text();
    expect(metrics).toMatch(/sextant_cluster_members\{member="two"\} 2/);
    expect(await (agent.child.kill('SIGTERM'), exited(agent.child))).toBe(0);
    one.child.kill('SIGTERM');
    expect(await exited(one.child)).toBe(0);
    await until('the remaining member owns every partition', async () => (await view(api2)).owned.length === 64);
    two.child.kill('SIGTERM');
    expect(await exited(two.child)).toBe(0);
  }, 300_000);

  it('refuses a store URL that is not Redis, with exit status 2', async () => {
    const bad = start(['server', '--insecure-loopback', '--listen', '127.0.0.1:0', '--port', '0', '--token', TOKEN, '--store', 'http://127.0.0.1:1']);
    expect(await exited(bad.child)).toBe(2);
    expect(bad.output()).toMatch(/--store takes a redis:\/\//);
  }, 120_000);
});
