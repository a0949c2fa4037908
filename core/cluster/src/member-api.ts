/**
 * Any member's API answers for the whole group's detectors (docs/architecture.md, "Scale-out"):
 *
 * - Expectations (the bands of `GET /api/v1/series` and `/api/v1/series/{id}/samples`): a series
 *   whose partition this member owns is answered by its own partition detectors (through the
 *   pipeline's stand-ins); any other is asked of the **owning member**, found from the partition's
 *   lease, at the API address it published in `{<group>}:api`. The request names the series by its
 *   group-wide id (`index * partitions + partition`), which means the same on every member.
 * - Samples (`GET /api/v1/series/{id}/samples`): the owner stores the series' samples with their
 *   bands since it took the partition over; another member answers with the owner's (after what it
 *   kept itself from before).
 * - Feedback (`POST /api/v1/feedback`): applied by the owner's instance the same way, and its
 *   new threshold returned; `GET /api/v1/feedback` adds what the other members' instances keep.
 * - Detector statuses (`GET /api/v1/plugins`): every member publishes the health of its partition
 *   instances in `{<group>}:detector-status` (every `publishMs`); any member merges the entries of
 *   the live members into one entry per configured detector (the worst state wins, the message
 *   names the partitions in trouble).
 *
 * Forwarding, not published state, because an expectation changes with every sample and feedback
 * must reach the running instance: the owner answers from memory, at the cost of one HTTP round
 * trip per owning member and request. The internal endpoints
 * (`/api/v1/cluster/internal/...`) take no body and accept only requests that carry the group's
 * secret (`{<group>}:secret`, random, readable by whoever can read the group's Redis).
 * An owner that does not answer within `timeoutMs` leaves the expectation out (`null`), as a
 * series no detector models yet.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatError, type FeedbackRecord, type FeedbackVerdict, type HealthState, type Logger, type SeriesDescriptor, type SeriesExpectation } from '@sextant/plugin-api';
import type { ApiServer, DetectorView, InstanceStatus, Runtime, SamplePoint } from '@sextant/runtime';
import type { ClusterKeys } from './cluster-keys.js';
import { GroupSeriesRegistry } from './group-series-registry.js';
import type { LocalSeriesMap } from './local-series-map.js';
import type { LocalDetectorHealth, PartitionDetectors } from './partition-detectors.js';
import type { PartitionLeases } from './partition-leases.js';
import type { RedisLink } from './redis-link.js';

const SECRET_HEADER = 'x-sextant-group-secret';
const STATE_RANK: Record<string, number> = { ok: 0, starting: 1, degraded: 2, error: 3 };

export interface MemberApiOptions {
  readonly link: RedisLink;
  readonly keys: ClusterKeys;
  readonly memberId: string;
  readonly runtime: Runtime;
  readonly leases: PartitionLeases;
  readonly detectors: PartitionDetectors;
  readonly series: LocalSeriesMap;
  /** detector instance id -> its type and plugin (for the status entries). */
  readonly detectorTypes: ReadonlyMap<string, { type: string; plugin: string }>;
  readonly logger: Logger;
  /** How often this member publishes its detectors' health (default 2 s). */
  readonly publishMs?: number;
  /** Longest wait for another member's answer (default 2 s). */
  readonly timeoutMs?: number;
}

export class MemberApi implements DetectorView {
  readonly counters = { forwarded: 0, forwardFailed: 0, served: 0, refused: 0 };
  private secret = '';
  private url: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();

  constructor(private readonly options: MemberApiOptions) {}

  async start(): Promise<void> {
    const { link, keys } = this.options;
    await link.call(keys.secret, ['SET', keys.secret, randomBytes(24).toString('hex'), 'NX']);
    this.secret = String(await link.call(keys.secret, ['GET', keys.secret]));
    const publish = () => {
      void this.publishHealth().finally(() => {
        this.timer = setTimeout(publish, this.options.publishMs ?? 2000);
        this.timer.unref();
      });
    };
    publish();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const { link, keys, memberId } = this.options;
    await link.call(keys.api, ['HDEL', keys.api, memberId]).catch(() => undefined);
    await link.call(keys.detectorStatus, ['HDEL', keys.detectorStatus, memberId]).catch(() => undefined);
  }

  /** Adds the internal endpoints to this member's API and publishes its address (`url`: as other members reach it). */
  async serve(api: Pick<ApiServer, 'route'>, url: string): Promise<void> {
    api.route('GET', /^\/api\/v1\/cluster\/internal\/expectations$/, (req, res, _p, u) => this.handle(req, res, () => this.serveExpectations(u)));
    api.route('POST', /^\/api\/v1\/cluster\/internal\/feedback$/, (req, res, _p, u) => this.handle(req, res, () => this.serveFeedback(u)));
    api.route('GET', /^\/api\/v1\/cluster\/internal\/samples$/, (req, res, _p, u) => this.handle(req, res, () => this.serveSamples(u)));
    api.route('GET', /^\/api\/v1\/cluster\/internal\/feedback-log$/, (req, res) => this.handle(req, res, () => this.serveFeedbackLog()));
    this.url = url.replace(/\/+$/, '');
    const { link, keys, memberId } = this.options;
    await link.call(keys.api, ['HSET', keys.api, memberId, this.url]);
  }

  // ------------------------------------------------------------------ DetectorView (this member's API asks)

  async expectations(ids: readonly number[]): Promise<ReadonlyMap<number, SeriesExpectation>> {
    const out = new Map<number, SeriesExpectation>();
    const { series, keys } = this.options;
    // Group ids of the series, by owning member.
    const byPartition = new Map<number, { local: number; gid: number }[]>();
    for (const local of ids) {
      const gid = series.groupId(local);
      if (gid < 0) continue; // never numbered by the group: no member has analysed it
      const p = gid % keys.partitions;
      let list = byPartition.get(p);
      if (!list) byPartition.set(p, (list = []));
      list.push({ local, gid });
    }
    const byOwner = await this.ownersOf([...byPartition.keys()]);
    await Promise.all(
      [...byOwner].map(async ([url, partitions]) => {
        const wanted = partitions.flatMap((p) => byPartition.get(p) ?? []);
        const answer = await this.ask<{ expectations: Record<string, SeriesExpectation> }>(url, 'GET', `expectations?series=${wanted.map((w) => w.gid).join(',')}`);
        if (!answer) return;
        for (const w of wanted) {
          const e = answer.expectations[String(w.gid)];
          if (e) out.set(w.local, e);
        }
      }),
    );
    return out;
  }

  /** Samples (with bands) and expectation of a series whose partition another member owns: the owner's. */
  async samples(local: number, from?: number, to?: number): Promise<{ samples: readonly SamplePoint[]; expectation?: SeriesExpectation } | undefined> {
    const gid = this.options.series.groupId(local);
    if (gid < 0) return undefined;
    const owners = await this.ownersOf([gid % this.options.keys.partitions]);
    const url = [...owners.keys()][0];
    if (!url) return undefined;
    const q = new URLSearchParams({ series: String(gid) });
    if (from !== undefined && Number.isFinite(from)) q.set('from', String(from));
    if (to !== undefined && Number.isFinite(to)) q.set('to', String(to));
    const answer = await this.ask<{ samples: SamplePoint[]; expectation: SeriesExpectation | null }>(url, 'GET', `samples?${q}`);
    if (!answer || !Array.isArray(answer.samples)) return undefined;
    return { samples: answer.samples, ...(answer.expectation ? { expectation: answer.expectation } : {}) };
  }

  /**
   * Feedback kept by the other live members' partition instances, in this runtime's series ids (a
   * series this member has not seen yet is added to its registry, so the id can be used here).
   */
  async feedbackLog(): Promise<readonly (FeedbackRecord & { readonly detector: string })[]> {
    const { link, keys, memberId, leases, runtime } = this.options;
    const others = leases.members.filter((m) => m !== memberId);
    if (others.length === 0) return [];
    const urls = await link.call<(string | null)[]>(keys.api, ['HMGET', keys.api, ...others]);
    const answers = await Promise.all(urls.filter((u): u is string => !!u).map((u) => this.ask<{ feedback: (FeedbackRecord & { detector: string })[] }>(u, 'GET', 'feedback-log')));
    const records = answers.flatMap((a) => (a && Array.isArray(a.feedback) ? a.feedback : []));
    // Group ids -> descriptors (one read per partition) -> this runtime's ids.
    const byPartition = new Map<number, Set<number>>();
    for (const r of records) {
      const p = r.series % keys.partitions;
      if (!byPartition.has(p)) byPartition.set(p, new Set());
      byPartition.get(p)!.add(Math.floor(r.series / keys.partitions));
    }
    const registry = new GroupSeriesRegistry(link, keys);
    const localOf = new Map<number, number>();
    for (const [p, set] of byPartition) {
      const indices = [...set];
      const ds = await registry.describe(p, indices);
      indices.forEach((idx, i) => {
        const d: SeriesDescriptor | undefined = ds[i];
        if (!d) return;
        try {
          localOf.set(idx * keys.partitions + p, runtime.registry.lookup(d) ?? runtime.registry.intern(d, 'cluster'));
        } catch {
          // this member's series limit: the record is left out here
        }
      });
    }
    return records.flatMap((r) => (localOf.has(r.series) ? [{ ...r, series: localOf.get(r.series)! }] : []));
  }

  /** Feedback for a series whose partition another member owns (the stand-ins call it). */
  async feedback(detector: string, local: number, verdict: FeedbackVerdict, timestamp: number, score?: number): Promise<number | undefined> {
    const gid = this.options.series.groupId(local);
    if (gid < 0) return undefined;
    const owners = await this.ownersOf([gid % this.options.keys.partitions]);
    const url = [...owners.keys()][0];
    if (!url) return undefined;
    const q = new URLSearchParams({ detector, series: String(gid), verdict, timestamp: String(timestamp), ...(score !== undefined ? { score: String(score) } : {}) });
    const answer = await this.ask<{ threshold: number | null }>(url, 'POST', `feedback?${q}`);
    return answer?.threshold ?? undefined;
  }

  async statuses(): Promise<readonly InstanceStatus[]> {
    const { link, keys, leases, detectorTypes } = this.options;
    const raw = await link.call<unknown>(keys.detectorStatus, ['HGETALL', keys.detectorStatus]);
    const entries: [string, string][] = [];
    if (Array.isArray(raw)) for (let i = 0; i + 1 < raw.length; i += 2) entries.push([String(raw[i]), String(raw[i + 1])]);
    else if (raw instanceof Map) for (const [k, v] of raw) entries.push([String(k), String(v)]);
    else if (raw && typeof raw === 'object') for (const [k, v] of Object.entries(raw)) entries.push([k, String(v)]);
    const live = new Set(leases.members);
    const perMember = new Map<string, { at: number; health: Record<string, LocalDetectorHealth> }>();
    for (const [member, json] of entries) {
      if (!live.has(member)) continue;
      try {
        perMember.set(member, JSON.parse(json) as { at: number; health: Record<string, LocalDetectorHealth> });
      } catch {
        // a damaged entry is rewritten by its member at its next publish
      }
    }
    // This member's own view is always current.
    perMember.set(this.options.memberId, { at: Date.now(), health: this.options.detectors.health() });
    return [...detectorTypes].map(([id, t]) => {
      let state: HealthState = 'ok';
      let partitions = 0;
      const problems: string[] = [];
      for (const [member, { health }] of perMember) {
        const h = health[id];
        if (!h) continue;
        partitions += h.partitions.length;
        for (const pr of h.problems) {
          if ((STATE_RANK[pr.state] ?? 0) > (STATE_RANK[state] ?? 0)) state = pr.state;
          problems.push(`partition ${pr.partition} on ${member}: ${pr.state}${pr.message ? ` (${pr.message})` : ''}`);
        }
      }
      if (partitions < keys.partitions && state === 'ok') state = 'starting';
      const summary = `runs per partition: ${partitions} of ${keys.partitions} partitions running on ${perMember.size} member(s)`;
      return {
        id,
        kind: 'detector',
        type: t.type,
        plugin: t.plugin,
        isolation: 'in-process',
        state,
        message: problems.length ? `${summary}; ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}` : summary,
        since: this.startedAt,
        collections: 0,
        failures: problems.length,
        restarts: 0,
      } satisfies InstanceStatus;
    });
  }

  // ------------------------------------------------------------------ the owner answers

  private serveExpectations(u: URL): unknown {
    const { keys, detectors } = this.options;
    const expectations: Record<string, SeriesExpectation> = {};
    for (const s of (u.searchParams.get('series') ?? '').split(',')) {
      const gid = Number(s);
      if (s === '' || !Number.isInteger(gid) || gid < 0) continue;
      const e = detectors.expectationAt(gid % keys.partitions, Math.floor(gid / keys.partitions));
      if (e) expectations[s] = e;
    }
    return { expectations };
  }

  private async serveSamples(u: URL): Promise<unknown> {
    const { keys, detectors, runtime, link } = this.options;
    const q = u.searchParams;
    const gid = Number(q.get('series'));
    if (!Number.isInteger(gid) || gid < 0) return { samples: [], expectation: null };
    const p = gid % keys.partitions;
    const index = Math.floor(gid / keys.partitions);
    const [d] = await new GroupSeriesRegistry(link, keys).describe(p, [index]);
    const local = d ? runtime.registry.lookup(d) : undefined;
    const num = (k: string) => (q.has(k) && Number.isFinite(Number(q.get(k))) ? Number(q.get(k)) : undefined);
    return { samples: local === undefined ? [] : runtime.store.read(local, num('from'), num('to')), expectation: detectors.expectationAt(p, index) ?? null };
  }

  private serveFeedbackLog(): unknown {
    const { keys, detectors } = this.options;
    const feedback: (FeedbackRecord & { detector: string })[] = [];
    for (const id of detectors.ids) {
      for (const [p, t] of detectors.instances(id)) {
        for (const r of t.detector.feedbackLog?.() ?? []) feedback.push({ detector: id, ...r, series: r.series * keys.partitions + p });
      }
    }
    return { feedback };
  }

  private async serveFeedback(u: URL): Promise<unknown> {
    const { keys, detectors } = this.options;
    const q = u.searchParams;
    const gid = Number(q.get('series'));
    const verdict = q.get('verdict');
    const timestamp = Number(q.get('timestamp'));
    const score = q.has('score') ? Number(q.get('score')) : undefined;
    if (!Number.isInteger(gid) || gid < 0 || (verdict !== 'not-a-problem' && verdict !== 'missed-here') || !Number.isFinite(timestamp)) return { threshold: null };
    const t = detectors.instance(q.get('detector') ?? '', gid % keys.partitions);
    const threshold = t?.detector.feedback ? await t.detector.feedback(Math.floor(gid / keys.partitions), verdict, timestamp, score) : undefined;
    return { threshold: threshold ?? null };
  }

  private async handle(req: IncomingMessage, res: ServerResponse, answer: () => unknown): Promise<void> {
    const given = Buffer.from(String(req.headers[SECRET_HEADER] ?? ''));
    const secret = Buffer.from(this.secret);
    if (!this.secret || given.length !== secret.length || !timingSafeEqual(given, secret)) {
      this.counters.refused++;
      res.writeHead(403, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ error: { code: 'SEXTANT_ERR_UNAUTHORIZED', message: 'internal endpoint of a server group: members only' } }));
      return;
    }
    this.counters.served++;
    const body = JSON.stringify(await answer());
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body);
  }

  // ------------------------------------------------------------------ finding and asking owners

  /** Owner API URL -> partitions it owns, for these partitions (this member and unreachable owners left out). */
  private async ownersOf(partitions: readonly number[]): Promise<Map<string, number[]>> {
    const { link, keys, memberId } = this.options;
    const holders = await Promise.all(partitions.map((p) => link.call<string | null>(keys.lease(p), ['GET', keys.lease(p)]).catch(() => null)));
    const members = [...new Set(holders.filter((h): h is string => !!h && h !== memberId))];
    const urls = members.length ? await link.call<(string | null)[]>(keys.api, ['HMGET', keys.api, ...members]) : [];
    const urlOf = new Map(members.map((m, i) => [m, urls[i]]));
    const out = new Map<string, number[]>();
    partitions.forEach((p, i) => {
      const url = holders[i] ? urlOf.get(holders[i]!) : undefined;
      if (!url) return;
      let list = out.get(url);
      if (!list) out.set(url, (list = []));
      list.push(p);
    });
    return out;
  }

  private async ask<T>(base: string, method: 'GET' | 'POST', path: string): Promise<T | undefined> {
    this.counters.forwarded++;
    try {
      const res = await fetch(`${base}/api/v1/cluster/internal/${path}`, { method, headers: { [SECRET_HEADER]: this.secret }, signal: AbortSignal.timeout(this.options.timeoutMs ?? 2000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return (await res.json()) as T;
    } catch (e) {
      this.counters.forwardFailed++;
      this.options.logger.warn(`cluster: the member at ${base} did not answer ${path.split('?')[0]}: ${formatError(e)}`);
      return undefined;
    }
  }

  private async publishHealth(): Promise<void> {
    const { link, keys, memberId, detectors } = this.options;
    await link.call(keys.detectorStatus, ['HSET', keys.detectorStatus, memberId, JSON.stringify({ at: Date.now(), health: detectors.health() })]).catch(() => undefined);
  }
}
