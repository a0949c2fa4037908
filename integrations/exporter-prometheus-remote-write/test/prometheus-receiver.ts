/**
 * A real Prometheus server (Debian's `prometheus` 2.42) with the remote-write receiver on, on an
 * ephemeral loopback port with its own storage in a temp folder. It can be killed and started
 * again on the same port and storage, to test outages. Stopped by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@sextant/testkit';

export class PrometheusReceiver {
  private child: ChildProcess | undefined;
  private constructor(private readonly binary: string, readonly dir: string, readonly port: number) {}

  /** `scrapeTarget`: a `host:port` Prometheus scrapes every second (job `sextant`), if given. */
  static async create(binary: string, scrapeTarget?: string): Promise<PrometheusReceiver> {
    const dir = await mkdtemp(join(tmpdir(), 'sextant-rw-prometheus-'));
    const scrape = scrapeTarget ? `scrape_configs:\n  - job_name: sextant\n    scrape_interval: 1s\n    static_configs:\n      - targets: ['${scrapeTarget}']\n` : '';
    await writeFile(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1m\n${scrape}`);
    return new PrometheusReceiver(binary, dir, await freePort());
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get writeUrl(): string {
    return `${this.base}/api/v1/write`;
  }

  async start(): Promise<void> {
    const child = spawn(
      this.binary,
      [`--config.file=${join(this.dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(this.dir, 'data')}`, `--web.listen-address=127.0.0.1:${this.port}`, '--web.enable-remote-write-receiver'],
      { stdio: 'ignore' },
    );
    this.child = child;
    for (let i = 0; i < 300; i++) {
      if (await fetch(`${this.base}/-/ready`).then((r) => r.ok, () => false)) return;
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('prometheus did not become ready within 30 s');
  }

  /** Ends the process with `signal` and waits for it. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  /** An instant PromQL query; returns `[labels, value]` per series. */
  async query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]> {
    const res = await fetch(`${this.base}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] }; error?: string };
    if (body.status !== 'success') throw new Error(`query ${promql} failed: ${body.error}`);
    return body.data!.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** Polls a query until `done` holds for its result (at most `ms`). */
  async waitFor<T>(promql: string, done: (r: { metric: Record<string, string>; value: number }[]) => T | undefined, ms = 20_000): Promise<T> {
    const until = Date.now() + ms;
    let last: unknown;
    for (;;) {
      const r = await this.query(promql);
      const v = done(r);
      if (v !== undefined && v !== false) return v;
      last = r;
      if (Date.now() > until) throw new Error(`timed out waiting on ${promql}; last result ${JSON.stringify(last)}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }

  async destroy(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}
