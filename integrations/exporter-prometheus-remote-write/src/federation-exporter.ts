/**
 * The `prometheus-federation` exporter: a `/metrics` endpoint that Prometheus (or any scraper of
 * the text format) scrapes for the same signals the remote-write exporter pushes — the latest
 * value of each selected series, its expected value, band and learning state, and the latest
 * anomaly score — each with the timestamp of the sample it belongs to, so a scrape records them at
 * the time Sextant judged them, not at scrape time.
 *
 * State is one slot per series id in typed arrays (latest only); a series unseen for `ttl` is
 * left out of the page. Names and labels follow the same mapping as remote write
 * (see prometheus-names.ts).
 *
 * The page is served on a port of its own (`listen`, default 127.0.0.1:9465) by Fastify, through
 * integration-kit's `serveHttpMount` (the same server code the event receivers use on their own
 * port): any other path is 404, a missing or wrong bearer token 401 — both before a body is read.
 */
import { resolveSecret, serveHttpMount, type HttpEndpoint } from '@sextant/integration-kit';
import { ErrorCode, LEARNING_STATE_CODES, SextantError, createExporterFactory, type Anomaly, type ExpectationColumns, type Exporter, type ExporterContext, type SampleBatch } from '@sextant/plugin-api';
import { parseDuration } from '@sextant/plugin-kit';
import picomatch from 'picomatch';
import { z } from 'zod';
import { metricName, seriesLabels } from './prometheus-names.js';
import { METRIC_LABEL, SIGNAL_METRICS } from './remote-write-exporter.js';

const pattern = z.string().min(1);

export const federationConfigSchema = z
  .object({
    /** `host:port` of the endpoint. */
    listen: z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'must be host:port, e.g. "127.0.0.1:9465"'),
    path: z.string().startsWith('/', 'must start with "/"'),
    /** Also expose the selected series' own latest values. */
    samples: z.boolean(),
    signals: z.boolean(),
    anomalies: z.boolean(),
    keep: z.array(pattern),
    drop: z.array(pattern),
    /** A series not updated for this long is left out. */
    ttl: z.union([z.number(), z.string()]).transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration like "10m"' });
        return z.NEVER;
      }
      return ms;
    }),
    /** Scrapers must send `Authorization: Bearer <token>` when set (use `${env:NAME}`). */
    bearerToken: z.string().min(1).optional(),
    bearerTokenFile: z.string().min(1).optional(),
  })
  .strict();

export type FederationConfig = z.output<typeof federationConfigSchema>;

export const federationConfigDefaults: Partial<FederationConfig> = {
  listen: '127.0.0.1:9465',
  path: '/metrics',
  samples: false,
  signals: true,
  anomalies: true,
  keep: [],
  drop: [],
  ttl: 600_000,
};

function compile(p: string): (name: string) => boolean {
  if (p.length >= 2 && p.startsWith('/') && p.endsWith('/')) {
    const re = new RegExp(p.slice(1, -1));
    return (n) => re.test(n);
  }
  return picomatch(p, { dot: true });
}

function escapeValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** `{a="1",b="x"}` without `__name__`. */
function labelText(labels: readonly (readonly [string, string])[]): string {
  const parts = labels.filter(([k]) => k !== '__name__').map(([k, v]) => `${k}="${escapeValue(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function formatValue(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v);
}

const COLUMNS = ['value', 'expected', 'lower', 'upper', 'state', 'score'] as const;
type Column = (typeof COLUMNS)[number];

export class FederationExporter implements Exporter {
  private readonly keep: ((n: string) => boolean)[];
  private readonly drop: ((n: string) => boolean)[];
  /** Per series: -1 unknown, 0 not selected, 1 selected. */
  private selected = new Int8Array(0);
  private labels: (string | undefined)[] = [];
  private signalLabels: (string | undefined)[] = [];
  private scoreLabels: (string | undefined)[] = [];
  private readonly values = {} as Record<Column, Float64Array>;
  private readonly stamps = {} as Record<Column, Float64Array>;
  private server: HttpEndpoint | undefined;
  private readonly authorization: string | undefined;

  constructor(private readonly ctx: ExporterContext<FederationConfig>) {
    this.keep = ctx.config.keep.map(compile);
    this.drop = ctx.config.drop.map(compile);
    for (const c of COLUMNS) {
      this.values[c] = new Float64Array(0);
      this.stamps[c] = new Float64Array(0);
    }
    const c = ctx.config;
    if (c.bearerToken !== undefined || c.bearerTokenFile !== undefined) this.authorization = `Bearer ${resolveSecret('bearerToken', c.bearerToken, c.bearerTokenFile)}`;
  }

  async start(): Promise<void> {
    const { listen, path } = this.ctx.config;
    let server: HttpEndpoint;
    try {
      server = await serveHttpMount(
        {
          bodyLimit: 1024, // scrapes are GETs; a body is never read
          precheck: (req) => {
            if (req.path !== path) return { status: 404, body: `not found; the page is ${path}\n` };
            if (this.authorization && req.headers.authorization !== this.authorization) return { status: 401, body: 'missing or wrong bearer token\n' };
            return undefined;
          },
          handle: () => ({ status: 200, headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }, body: this.render(this.ctx.clock.now()) }),
        },
        { listen, label: 'listen', logger: this.ctx.logger },
      );
    } catch (e) {
      throw new SextantError(ErrorCode.START_FAILED, (e as Error).message, { hint: 'choose another listen address', cause: e });
    }
    this.server = server;
    const { host, port } = server.address;
    this.ctx.logger.info(`serving Sextant signals on http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`);
  }

  /** The bound port (after start). */
  get port(): number | undefined {
    return this.server?.address.port;
  }

  exportSamples(batch: SampleBatch, e: ExpectationColumns | undefined): void {
    for (let i = 0; i < batch.length; i++) {
      const id = batch.series[i];
      if (!this.isSelected(id)) continue;
      const t = batch.timestamps[i];
      this.set('value', id, batch.values[i], t);
      if (e && e.state[i] !== 0) {
        this.set('expected', id, e.expected[i], t);
        this.set('lower', id, e.lower[i], t);
        this.set('upper', id, e.upper[i], t);
        this.set('state', id, e.state[i], t);
      }
    }
  }

  exportAnomalies(anomalies: readonly Anomaly[]): void {
    for (const a of anomalies) if (this.isSelected(a.seriesId) && Number.isFinite(a.score)) this.set('score', a.seriesId, a.score, a.timestamp);
  }

  async shutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.close();
  }

  /** The exposition page for `now`. */
  render(now: number): string {
    const c = this.ctx.config;
    const out: string[] = [];
    const oldest = now - c.ttl;
    const family = (name: string, help: string, column: Column, labelsOf: (id: number) => string | undefined) => {
      const lines: string[] = [];
      const v = this.values[column];
      const ts = this.stamps[column];
      for (let id = 0; id < ts.length; id++) {
        if (!(ts[id] > oldest)) continue;
        const labels = labelsOf(id);
        if (labels !== undefined) lines.push(`${name}${labels} ${formatValue(v[id])} ${Math.round(ts[id])}`);
      }
      if (lines.length) out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...lines);
    };
    if (c.samples) {
      // the series' own names, untyped, sorted so each name's lines are contiguous
      const v = this.values.value;
      const ts = this.stamps.value;
      const lines: string[] = [];
      for (let id = 0; id < ts.length; id++) if (ts[id] > oldest && this.labels[id] !== undefined) lines.push(`${this.labels[id]} ${formatValue(v[id])} ${Math.round(ts[id])}`);
      out.push(...lines.sort());
    }
    if (c.signals) {
      family(SIGNAL_METRICS.expected, 'Value the modelling detector expected', 'expected', (id) => this.signalLabelsOf(id));
      family(SIGNAL_METRICS.lower, 'Lower edge of the normal band', 'lower', (id) => this.signalLabelsOf(id));
      family(SIGNAL_METRICS.upper, 'Upper edge of the normal band', 'upper', (id) => this.signalLabelsOf(id));
      family(SIGNAL_METRICS.state, 'Learning state: 1 learning, 2 provisional, 3 trusted', 'state', (id) => this.signalLabelsOf(id));
    }
    if (c.anomalies) family(SIGNAL_METRICS.anomalyScore, 'Score (0..1) of the latest anomaly on the series', 'score', (id) => this.scoreLabels[id]);
    return out.length ? `${out.join('\n')}\n` : '';
  }

  private isSelected(id: number): boolean {
    if (id >= this.selected.length) this.grow(id + 1);
    if (this.selected[id] === -1) {
      const d = this.ctx.catalog.describe(id);
      const ok = d !== undefined && (this.keep.length === 0 || this.keep.some((t) => t(d.metric))) && !this.drop.some((t) => t(d.metric));
      this.selected[id] = ok ? 1 : 0;
      if (ok) {
        const name = metricName(d!.metric);
        this.labels[id] = `${name}${labelText(seriesLabels(name, d!))}`;
        this.signalLabels[id] = labelText(seriesLabels('x', d!, { [METRIC_LABEL]: name }));
        this.scoreLabels[id] = this.signalLabels[id];
      }
    }
    return this.selected[id] === 1;
  }

  private signalLabelsOf(id: number): string | undefined {
    return this.signalLabels[id];
  }

  private set(column: Column, id: number, value: number, t: number): void {
    this.values[column][id] = value;
    this.stamps[column][id] = t;
  }

  private grow(n: number): void {
    let cap = Math.max(1024, this.selected.length);
    while (cap < n) cap *= 2;
    const sel = new Int8Array(cap).fill(-1);
    sel.set(this.selected);
    this.selected = sel;
    for (const c of COLUMNS) {
      const v = new Float64Array(cap);
      v.set(this.values[c]);
      this.values[c] = v;
      const t = new Float64Array(cap);
      t.set(this.stamps[c]);
      this.stamps[c] = t;
    }
  }
}

export const federationExporterFactory = createExporterFactory<FederationConfig>({
  type: 'prometheus-federation',
  stability: 'alpha',
  description: "A /metrics endpoint with Sextant's expected value, band, learning state and anomaly scores (and optionally the series), for Prometheus to scrape.",
  configSchema: federationConfigSchema,
  defaults: federationConfigDefaults,
  configJsonSchema: z.toJSONSchema(federationConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  create: (ctx) => new FederationExporter(ctx),
});
