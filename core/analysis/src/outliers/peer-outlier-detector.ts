/**
 * Peer-group outlier detector: which replica of a service misbehaves while its siblings are fine.
 *
 * Every `interval` of data time it compares, per peer cell (one group x one metric x one set of
 * point attributes), each member's latest value with the group's robust centre and spread:
 *
 *   z = (x - median) / max(1.4826 * MAD, relFloor * |median|, absFloor)
 *
 * A member is flagged when |z| > threshold in `confirm.count` of its last `confirm.of` rounds and
 * stays flagged (re-emitted every round, so incidents stay open) until it has no deviating round
 * left in that window (hysteresis). It is not judged while:
 * - the cell has fewer than `minMembers` fresh members (too small to judge);
 * - the member is younger than `warmupRounds` (a replica that just joined);
 * - members of the cell run different versions (a rolling update in progress), or a deploy /
 *   scale / config event for the group arrived within `quietAfterChange`;
 * - more than `maxOutlierFraction` of the cell deviates at once (the whole group moved: that is a
 *   job for the baseline detector, not an outlier).
 *
 * State is per series in typed arrays; evaluation is O(members) per cell with a small sort.
 */
import { z } from 'zod';
import { createDetectorFactory, type DetectorContext, type Detector, type SampleBatch, type SextantEvent } from '@sextant/plugin-api';
import { peerIdentity, pointKey } from './peer-groups.js';

export const peerOutlierConfigSchema = z.object({
  /** Evaluation period in ms of data time; match the collection interval. */
  interval: z.number().int().positive(),
  /** |robust z| above which a round counts as deviating. */
  threshold: z.number().positive(),
  confirm: z.object({ count: z.number().int().min(1), of: z.number().int().min(1).max(16) }).refine((c) => c.count <= c.of, { message: 'confirm.count must be <= confirm.of' }),
  minMembers: z.number().int().min(3),
  warmupRounds: z.number().int().min(0),
  maxOutlierFraction: z.number().gt(0).lt(1),
  /** Spread floor relative to |median|: deviations smaller than this share never count. */
  relFloor: z.number().min(0),
  absFloor: z.number().min(0),
  quietAfterChange: z.number().int().min(0),
  /** Metric name prefixes to compare (empty: all). */
  include: z.array(z.string()),
  exclude: z.array(z.string()),
});
export type PeerOutlierConfig = z.infer<typeof peerOutlierConfigSchema>;

export const PEER_OUTLIER_DEFAULTS: PeerOutlierConfig = {
  interval: 10_000,
  threshold: 4,
  confirm: { count: 3, of: 5 },
  minMembers: 4,
  warmupRounds: 3,
  maxOutlierFraction: 0.3,
  relFloor: 0.05,
  absFloor: 1e-9,
  quietAfterChange: 300_000,
  include: [],
  exclude: ['system.cpu.logical.count', 'container.uptime', 'system.uptime'],
};

const NOT_PEER = -2;
const UNKNOWN = -1;

interface Cell {
  readonly group: string;
  readonly metric: string;
  readonly members: number[];
}

/** Cells up to this size are sorted in place by insertion (no allocation); larger ones by Array sort. */
const SMALL_CELL = 64;

/**
 * Sorts a[0..n) ascending by insertion: stable and ordered by `>`, so the result is the one
 * `Array.prototype.sort((x, y) => x - y)` gives (equal values keep their order, -0 and 0 included).
 */
function insertionSort(a: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) {
    const x = a[i];
    let j = i - 1;
    while (j >= 0 && a[j] > x) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = x;
  }
}

/** Median of the sorted a[0..n) (mean of the two middle values when n is even). */
function medianOfSorted(a: ArrayLike<number>, n: number): number {
  return a[n >> 1] * (n % 2 ? 1 : 0.5) + (n % 2 ? 0 : a[(n >> 1) - 1] * 0.5);
}

function popcount(x: number): number {
  let n = 0;
  while (x) {
    n += x & 1;
    x >>>= 1;
  }
  return n;
}

export class PeerOutlierDetector implements Detector {
  private slotOf = new Int32Array(0);
  private capacity = 0;
  private size = 0;
  private value = new Float64Array(0);
  private ts = new Float64Array(0);
  private cellOf = new Int32Array(0);
  private mask = new Uint16Array(0);
  private age = new Uint16Array(0);
  private flagged = new Uint8Array(0);
  private seriesOf = new Uint32Array(0);
  private readonly memberName: string[] = [];
  private readonly version: string[] = [];
  private readonly cells: Cell[] = [];
  private readonly cellIndex = new Map<string, number>();
  private readonly quietUntil = new Map<string, number>();
  private nextEval = Number.NEGATIVE_INFINITY;
  private readonly scratch: number[] = [];
  /** Per-cell scratch for the values and deviations of small cells (sorted in place). */
  private sortedValues = new Float64Array(SMALL_CELL);
  private sortedDev = new Float64Array(SMALL_CELL);
  /** Rounds evaluated and members judged, for benchmarks and tests. */
  rounds = 0;
  judged = 0;

  constructor(private readonly ctx: DetectorContext<PeerOutlierConfig>) {}

  private grow(n: number): void {
    let cap = Math.max(16, this.capacity);
    while (cap < n) cap *= 2;
    if (cap === this.capacity) return;
    const g = <T extends Float64Array | Int32Array | Uint16Array | Uint8Array | Uint32Array>(a: T, C: new (n: number) => T): T => {
      const b = new C(cap);
      b.set(a);
      return b;
    };
    this.value = g(this.value, Float64Array);
    this.ts = g(this.ts, Float64Array);
    this.cellOf = g(this.cellOf, Int32Array);
    this.mask = g(this.mask, Uint16Array);
    this.age = g(this.age, Uint16Array);
    this.flagged = g(this.flagged, Uint8Array);
    this.seriesOf = g(this.seriesOf, Uint32Array);
    this.capacity = cap;
  }

  private slotFor(seriesId: number): number {
    if (seriesId >= this.slotOf.length) {
      const next = new Int32Array(Math.max(seriesId + 1, this.slotOf.length * 2, 64)).fill(UNKNOWN);
      next.set(this.slotOf);
      this.slotOf = next;
    }
    const known = this.slotOf[seriesId];
    if (known !== UNKNOWN) return known;
    const d = this.ctx.catalog.describe(seriesId);
    const cfg = this.ctx.config;
    const wanted = d && (cfg.include.length === 0 || cfg.include.some((p) => d.metric.startsWith(p))) && !cfg.exclude.some((p) => d.metric.startsWith(p));
    const id = wanted ? peerIdentity(d, this.ctx.topology) : undefined;
    if (!d || !id) {
      this.slotOf[seriesId] = NOT_PEER;
      return NOT_PEER;
    }
    const key = `${id.group}\u0000${d.metric}\u0000${pointKey(d.attributes)}`;
    let cell = this.cellIndex.get(key);
    if (cell === undefined) {
      cell = this.cells.length;
      this.cells.push({ group: id.group, metric: d.metric, members: [] });
      this.cellIndex.set(key, cell);
    }
    const slot = this.size++;
    this.grow(this.size);
    this.slotOf[seriesId] = slot;
    this.seriesOf[slot] = seriesId;
    this.cellOf[slot] = cell;
    this.ts[slot] = Number.NEGATIVE_INFINITY;
    this.memberName[slot] = String(d.resource['container.name'] ?? d.resource['k8s.pod.name'] ?? d.resource['host.name'] ?? id.member);
    this.version[slot] = id.version;
    this.cells[cell].members.push(slot);
    return slot;
  }

  process(batch: SampleBatch): void {
    let maxT = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < batch.length; i++) {
      const v = batch.values[i];
      const t = batch.timestamps[i];
      if (v - v !== 0 || t - t !== 0) continue;
      const slot = this.slotFor(batch.series[i]);
      if (slot < 0) continue;
      if (t >= this.ts[slot]) {
        this.value[slot] = v;
        this.ts[slot] = t;
      }
      if (t > maxT) maxT = t;
    }
    if (maxT === Number.NEGATIVE_INFINITY) return;
    if (this.nextEval === Number.NEGATIVE_INFINITY) this.nextEval = maxT + this.ctx.config.interval;
    else if (maxT >= this.nextEval) {
      this.evaluate(maxT);
      this.nextEval = maxT + this.ctx.config.interval;
    }
  }

  onEvent(event: SextantEvent): void {
    if (!['deploy', 'scale', 'config.run', 'rollout'].includes(event.type)) return;
    const svc = event.resource['service.name'] ?? event.resource['k8s.deployment.name'] ?? event.resource['docker.swarm.service.name'];
    if (svc === undefined) return;
    const until = event.timestamp + this.ctx.config.quietAfterChange;
    for (const cell of this.cells) if (cell.group === `service:${String(svc)}` || cell.group.endsWith(`/${String(svc)}`)) this.quietUntil.set(cell.group, until);
    this.quietUntil.set(`service:${String(svc)}`, until);
  }

  /** Compares every cell's members at data time `now`. */
  evaluate(now: number): void {
    const cfg = this.ctx.config;
    const staleBefore = now - 3 * cfg.interval;
    const windowMask = (1 << cfg.confirm.of) - 1;
    this.rounds++;
    for (const cell of this.cells) {
      const fresh = this.scratch;
      fresh.length = 0;
      for (const s of cell.members) {
        if (this.ts[s] >= staleBefore) fresh.push(s);
        else {
          this.age[s] = 0;
          this.mask[s] = 0;
          this.flagged[s] = 0;
        }
      }
      for (const s of fresh) if (this.age[s] < 0xffff) this.age[s]++;
      if (fresh.length < cfg.minMembers) continue;
      const quiet = (this.quietUntil.get(cell.group) ?? Number.NEGATIVE_INFINITY) > now;
      const count = fresh.length;
      const v0 = this.version[fresh[0]];
      let mixed = false;
      for (let i = 1; i < count && !mixed; i++) mixed = this.version[fresh[i]] !== v0;
      // Median and MAD: small cells (replicas of a service) in preallocated scratch, no allocation
      // or comparator call per cell; the same values as the array sort of large cells.
      let median: number;
      let mad: number;
      if (count <= SMALL_CELL) {
        const values = this.sortedValues;
        const dev = this.sortedDev;
        for (let i = 0; i < count; i++) values[i] = this.value[fresh[i]];
        insertionSort(values, count);
        median = medianOfSorted(values, count);
        for (let i = 0; i < count; i++) dev[i] = Math.abs(values[i] - median);
        insertionSort(dev, count);
        mad = medianOfSorted(dev, count);
      } else {
        const values = fresh.map((s) => this.value[s]).sort((a, b) => a - b);
        median = medianOfSorted(values, count);
        mad = medianOfSorted(values.map((v) => Math.abs(v - median)).sort((a, b) => a - b), count);
      }
      const scale = Math.max(1.4826 * mad, cfg.relFloor * Math.abs(median), cfg.absFloor);
      let deviating = 0;
      for (const s of fresh) if (Math.abs(this.value[s] - median) / scale > cfg.threshold) deviating++;
      const groupShift = deviating / fresh.length > cfg.maxOutlierFraction;
      for (const s of fresh) {
        const zAbs = Math.abs(this.value[s] - median) / scale;
        const judged = !quiet && !mixed && !groupShift && this.age[s] > cfg.warmupRounds;
        if (!judged) {
          this.mask[s] = 0;
          this.flagged[s] = 0;
          continue;
        }
        this.judged++;
        this.mask[s] = ((this.mask[s] << 1) | (zAbs > cfg.threshold ? 1 : 0)) & windowMask;
        const hits = popcount(this.mask[s]);
        if (this.flagged[s] ? hits === 0 : hits < cfg.confirm.count) {
          this.flagged[s] = 0;
          continue;
        }
        this.flagged[s] = 1;
        if (!(zAbs > cfg.threshold)) continue;
        const x = this.value[s];
        const ratio = median !== 0 ? x / median : Number.POSITIVE_INFINITY;
        const how = Number.isFinite(ratio) && ratio > 0 ? `${ratio >= 1 ? ratio.toFixed(ratio >= 10 ? 0 : 1) : ratio.toFixed(2)}x the median` : `${(x - median).toPrecision(3)} from the median`;
        this.ctx.emit({
          seriesId: this.seriesOf[s],
          detector: 'peer-outlier',
          kind: 'outlier',
          timestamp: this.ts[s],
          value: x,
          expected: median,
          lower: median - cfg.threshold * scale,
          upper: median + cfg.threshold * scale,
          score: Math.min(1, 0.5 + 0.5 * Math.tanh((zAbs - cfg.threshold) / cfg.threshold)),
          severity: zAbs > 3 * cfg.threshold ? 'critical' : 'warning',
          peerGroup: cell.group,
          message: `${cell.metric} of ${this.memberName[s]} is ${how} of its ${fresh.length - 1} peers in ${cell.group} (${x.toPrecision(4)} vs ${median.toPrecision(4)})`,
        });
      }
    }
  }

  shutdown(): void {}
}

export const peerOutlierDetectorFactory = createDetectorFactory<PeerOutlierConfig>({
  type: 'peer-outlier',
  stability: 'alpha',
  description: 'Flags the member of a peer group (replicas of a service, containers of an image, hosts of a role) that drifts from its siblings.',
  configSchema: peerOutlierConfigSchema,
  defaults: PEER_OUTLIER_DEFAULTS,
  create: (ctx) => new PeerOutlierDetector(ctx),
});
