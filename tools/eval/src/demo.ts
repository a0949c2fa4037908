/**
 * `sextant demo`: replays a few days of a synthetic but realistic workload — four services with
 * daily traffic curves, noise, latency, CPU and memory — with injected incidents, at full speed
 * through the production `baseline` detector, and reports what was found against what was injected.
 *
 * One of them is a shop: a `storefront` site whose conversion rate is written as the RUM plugin
 * writes it (`rum.conversion_rate`, resource `service.name` of the site and `sextant.impact:
 * business`, a topology edge site `calls` backend as its `calls` option makes), calling a
 * `checkout` backend. When checkout's latency rises, conversion drops a few minutes later; the
 * correlator folds both into one incident labelled business impact that says what it costs.
 */
import { baselineDetectorFactory, IncidentCorrelator, INCIDENT_DEFAULTS, incidentConfigSchema, offlineDetectorContext } from '@sextant/analysis';
import type { AnomalyInput, ImpactClass, IncidentUpdate, SeriesDescriptor, Severity, TopologyEdge } from '@sextant/plugin-api';

export interface DemoOptions {
  /** Days of data to replay (the first two are learning). Default 3. */
  readonly days?: number;
  /** Receives each line of the report as it is produced. */
  readonly onLine?: (line: string) => void;
  /** Seed of the noise, for repeatable runs. */
  readonly seed?: number;
}

export interface DemoIncident {
  readonly name: string;
  readonly metric: string;
  readonly service: string;
  readonly at: number;
  readonly found: boolean;
  /** Minutes from injection to the first anomaly on that series, when found. */
  readonly delayMinutes?: number;
  /** True when an incident (after noise control) covers it: what a person would be told. */
  readonly incident: boolean;
  /** Impact class of the (highest-impact) incident covering it, when there is one. */
  readonly impact?: ImpactClass;
}

/** An incident the correlator reported, as a person would read it. */
export interface DemoReportedIncident {
  readonly openedAt: number;
  readonly impact: ImpactClass;
  readonly severity: Severity;
  readonly title: string;
  readonly entities: readonly string[];
}

export interface DemoSummary {
  readonly days: number;
  readonly series: number;
  readonly samples: number;
  readonly wallMs: number;
  readonly injected: readonly DemoIncident[];
  readonly anomalies: readonly AnomalyInput[];
  /** Anomalies not explained by an injected incident. */
  /** Raw detector anomalies not explained by an injected incident. */
  readonly falseAlarms: number;
  /** Incidents the correlator opened (after noise control), and how many match nothing injected. */
  readonly incidents: number;
  readonly falseIncidents: number;
  /** Every incident the correlator opened, in order. */
  readonly reported: readonly DemoReportedIncident[];
  readonly lines: readonly string[];
}

const STEP = 60_000;
const DAY = 86_400_000;
const START = Date.UTC(2026, 2, 2);
const IMPACT_RANK: Record<ImpactClass, number> = { infrastructure: 0, user: 1, business: 2 };

interface SeriesPlan {
  readonly descriptor: SeriesDescriptor;
  readonly value: (t: number, noise: number) => number;
  /** Source of the standard normal noise passed to `value`. */
  readonly noise: () => number;
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const days = Math.max(3, options.days ?? 3);
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    options.onLine?.(line);
  };
  const gaussian = (start: number) => {
    let seed = start >>> 0;
    const uniform = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
    return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  };
  const normal = gaussian(options.seed ?? 42);
  // the shop draws its own noise, so adding it left the other services' data (and findings) as they were
  const shopNormal = gaussian((options.seed ?? 42) ^ 0x5e9d);

  const incidentDay = START + (days - 1) * DAY;
  const spikeAt = incidentDay + 9 * 3_600_000;
  const shiftAt = incidentDay + 13 * 3_600_000;
  const leakAt = incidentDay + 2 * 3_600_000;
  const checkoutAt = incidentDay + 17 * 3_600_000;
  const traffic = (t: number) => 0.6 + 0.4 * Math.sin((2 * Math.PI * (t - START - 6 * 3_600_000)) / DAY);
  const svc = (name: string) => ({ 'service.name': name, 'container.id': `${name}-1` });
  const plans: SeriesPlan[] = [];
  for (const name of ['web', 'api', 'db', 'shop']) {
    const scale = { web: 200, api: 120, db: 60, shop: 15 }[name]!;
    plans.push({
      descriptor: { metric: 'http.server.requests', unit: '{request}/s', type: 'rate', resource: svc(name), attributes: {} },
      noise: normal,
      value: (t, z) => scale * traffic(t) * (1 + 0.05 * z) * (name === 'web' && t === spikeAt ? 3 : 1),
    });
    plans.push({
      descriptor: { metric: 'http.server.request.duration', unit: 'ms', type: 'gauge', resource: svc(name), attributes: {} },
      noise: normal,
      value: (t, z) => (40 + 20 * traffic(t)) * Math.exp(0.1 * z) * (name === 'api' && t >= shiftAt ? 2.5 : 1),
    });
    plans.push({
      descriptor: { metric: 'container.cpu.utilization', unit: '1', type: 'gauge', resource: svc(name), attributes: {} },
      noise: normal,
      value: (t, z) => Math.min(1, 0.2 + 0.3 * traffic(t) + 0.02 * z),
    });
    plans.push({
      descriptor: { metric: 'container.memory.usage', unit: 'By', type: 'gauge', resource: { ...svc(name), 'container.memory.limit': 2e9 }, attributes: {} },
      noise: normal,
      value: (t, z) => 8e8 + 2e7 * z + (name === 'db' && t >= leakAt ? ((t - leakAt) / 3_600_000) * 6e7 : 0),
    });
  }
  // The shop: checkout's latency goes up eightfold; visitors give up, and the storefront's
  // conversion rate (share of sessions within the RUM plugin's 30 min window that bought) slides
  // from about 2.1% to 0.4% over the next ten minutes.
  plans.push({
    descriptor: { metric: 'http.server.request.duration', unit: 'ms', type: 'gauge', resource: svc('checkout'), attributes: {} },
    noise: shopNormal,
    value: (t, z) => (150 + 60 * traffic(t)) * Math.exp(0.1 * z) * (t >= checkoutAt ? 8 : 1),
  });
  plans.push({
    descriptor: { metric: 'rum.conversion_rate', unit: '1', type: 'gauge', resource: { 'service.name': 'storefront', 'sextant.impact': 'business' }, attributes: {} },
    noise: shopNormal,
    value: (t, z) => 0.021 * (1 + 0.05 * z) * (t < checkoutAt ? 1 : 1 - 0.8 * Math.min(1, (t - checkoutAt) / 600_000)),
  });
  const edges: TopologyEdge[] = [{ from: 'service:storefront', to: 'service:checkout', type: 'calls' }];
  const injected = [
    { name: 'traffic spike x3', metric: 'http.server.requests', service: 'web', at: spikeAt, lasting: false },
    { name: 'latency level shift x2.5', metric: 'http.server.request.duration', service: 'api', at: shiftAt, lasting: true },
    { name: 'memory leak 60 MB/h toward a 2 GB limit', metric: 'container.memory.usage', service: 'db', at: leakAt, lasting: true },
    { name: 'checkout latency x8, conversion drops', metric: 'http.server.request.duration', service: 'checkout', at: checkoutAt, lasting: true },
  ];

  const anomalies: AnomalyInput[] = [];
  const ctx = offlineDetectorContext({
    instanceId: 'baseline/demo',
    now: () => START,
    describe: (id) => plans[id]?.descriptor,
    size: plans.length,
    emit: (a) => void anomalies.push(a),
  });
  const detector = await baselineDetectorFactory.create(ctx);
  await detector.start?.();
  // Anomalies go through the production correlator (noise control + grouping), as in `sextant run`.
  const updates: IncidentUpdate[] = [];
  const correlator = new IncidentCorrelator({
    config: incidentConfigSchema.parse(INCIDENT_DEFAULTS),
    instanceId: 'incidents/demo',
    logger: ctx.logger,
    clock: ctx.clock,
    status: ctx.status,
    metrics: ctx.metrics,
    signal: ctx.signal,
    dataDir: undefined,
    catalog: ctx.catalog,
    topology: {
      entity: () => undefined,
      entities: () => [],
      edges: (f = {}) => edges.filter((e) => (f.from === undefined || e.from === f.from) && (f.to === undefined || e.to === f.to) && (f.type === undefined || e.type === f.type)),
      entityOf: (r) => (r['service.name'] !== undefined ? `service:${String(r['service.name'])}` : undefined),
    },
    publish: (u) => void updates.push(u),
  });
  let forwarded = 0;
  const forward = () => {
    for (; forwarded < anomalies.length; forwarded++) {
      const a = anomalies[forwarded];
      const d = plans[a.seriesId].descriptor;
      correlator.onAnomaly({ ...a, id: `demo-${forwarded}`, metric: d.metric, resource: d.resource, attributes: d.attributes });
    }
  };
  say(`replaying ${days} days of ${plans.length} series (${new Set(plans.map((p) => p.descriptor.resource['service.name'])).size} services, one of them a shop's storefront) at 1-minute resolution; incidents on the last day`);
  const n = plans.length;
  const series = new Uint32Array(n).map((_, i) => i);
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  const t0 = performance.now();
  let samples = 0;
  for (let t = START; t < START + days * DAY; t += STEP) {
    for (let i = 0; i < n; i++) {
      timestamps[i] = t;
      values[i] = plans[i].value(t, plans[i].noise());
    }
    detector.process({ length: n, series, timestamps, values });
    samples += n;
    forward();
    correlator.tick(t);
  }
  const wallMs = performance.now() - t0;
  await detector.shutdown();

  const explained = new Set<AnomalyInput>();
  const incidents = [...new Map(updates.map((u) => [u.incident.id, u.incident])).values()];
  // An incident covers an injected problem on its service when it was open at the injection or
  // opened after it: within 12 h for a one-off spike, any time later for a lasting change.
  const matches = (inc: (typeof incidents)[number], i: (typeof injected)[number]) =>
    inc.entities.includes(`service:${i.service}`) && (inc.resolvedAt ?? Number.POSITIVE_INFINITY) >= i.at && (i.lasting || inc.openedAt <= i.at + 12 * 3_600_000);
  const results: DemoIncident[] = injected.map(({ lasting: _lasting, ...inc }, k) => {
    const id = plans.findIndex((p) => p.descriptor.metric === inc.metric && p.descriptor.resource['service.name'] === inc.service);
    const hit = anomalies.find((a) => a.seriesId === id && a.timestamp >= inc.at && a.timestamp <= inc.at + 12 * 3_600_000);
    for (const a of anomalies) if (a.seriesId === id && a.timestamp >= inc.at) explained.add(a);
    const covering = incidents.filter((x) => matches(x, injected[k]));
    const impact = covering.map((x) => x.impact).sort((a, b) => IMPACT_RANK[b] - IMPACT_RANK[a])[0];
    return { ...inc, found: hit !== undefined, ...(hit ? { delayMinutes: Math.round((hit.timestamp - inc.at) / 60_000) } : {}), incident: covering.length > 0, ...(impact ? { impact } : {}) };
  });
  const hhmm = (t: number) => new Date(t).toISOString().slice(5, 16).replace('T', ' ');
  for (const a of anomalies) {
    const p = plans[a.seriesId].descriptor;
    say(`${hhmm(a.timestamp)}  ${a.kind.padEnd(11)} ${String(p.resource['service.name']).padEnd(10)} score ${a.score.toFixed(2)}  ${a.message}`);
  }
  say('');
  for (const r of results) say(`${r.found ? 'FOUND ' : 'MISSED'} ${r.name} on ${r.service} (${r.metric})${r.found ? ` after ${r.delayMinutes} min` : ''}${r.incident ? `, incident opened (${r.impact} impact)` : ', no incident'}`);
  const falseAlarms = anomalies.length - explained.size;
  const falseIncidents = incidents.filter((inc) => !injected.some((i) => matches(inc, i))).length;
  say('');
  for (const inc of incidents) say(`incident ${hhmm(inc.openedAt)} [${inc.impact}/${inc.severity}] ${inc.title}`);
  say(`${results.filter((r) => r.found).length}/${results.length} incidents found (${results.filter((r) => r.incident).length} with an incident), ${falseAlarms} other anomalies -> ${incidents.length} incidents after noise control (${falseIncidents} not injected), ${samples.toLocaleString('en-US')} samples in ${Math.round(wallMs)} ms`);
  const reported = incidents.map((inc) => ({ openedAt: inc.openedAt, impact: inc.impact, severity: inc.severity, title: inc.title, entities: inc.entities }));
  return { days, series: n, samples, wallMs, injected: results, anomalies, falseAlarms, incidents: incidents.length, falseIncidents, reported, lines };
}
