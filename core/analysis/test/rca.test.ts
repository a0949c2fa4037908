import { describe, expect, it } from 'vitest';
import { isSextantError, type MetricKind } from '@sextant/plugin-api';
import { rankRootCauses, type RcaInput, type RcaSeries } from '../src/rca/index.js';

const STEP = 60_000;
const T0 = 1_700_000_000_000;
const STEPS = 12;
const TARGET_INDEX = 6;
const TARGET_TIME = T0 + TARGET_INDEX * STEP;
const timestamps = Float64Array.from({ length: STEPS }, (_, i) => T0 + i * STEP);

/** Deterministic noise in [-1, 1]. */
function noise(seed: number, i: number): number {
  const x = Math.sin(seed * 12.9898 + i * 78.233) * 43758.5453;
  return 2 * (x - Math.floor(x)) - 1;
}

/** Normal-operation reference: `base` with ±5 % noise, 200 steps. */
function reference(base: number, seed: number): Float64Array {
  return Float64Array.from({ length: 200 }, (_, i) => base * (1 + 0.05 * noise(seed, i)));
}

/** Issue window values: normal, then `factor` times higher from TARGET_INDEX on. */
function issueValues(base: number, seed: number, factor: number): Float64Array {
  return Float64Array.from({ length: STEPS }, (_, i) => base * (1 + 0.05 * noise(seed + 1, i)) * (i >= TARGET_INDEX ? factor : 1));
}

function latency(entity: number, base: number, factor: number, withReference = true, kind: MetricKind = 'latency'): RcaSeries {
  return {
    entity,
    metric: kind === 'throughput' ? 'requests' : 'latency',
    kind,
    statistic: 'p90',
    values: issueValues(base, entity + 1, factor),
    reference: withReference ? reference(base, entity + 1) : undefined,
  };
}

function input(entities: string[], edges: [string, string][], series: RcaSeries[], target: string, extra: Partial<RcaInput> = {}): RcaInput {
  const id = (n: string): number => entities.indexOf(n);
  return {
    entities,
    edges: Uint32Array.from(edges.flatMap(([a, b]) => [id(a), id(b)])),
    timestamps,
    series,
    target: { entity: id(target), kind: 'latency', timestamp: TARGET_TIME },
    ...extra,
  };
}

describe('rankRootCauses', () => {
  it('puts the injected end of a chain first: a -> b -> c with c slow', () => {
    const ranked = rankRootCauses(
      input(['a', 'b', 'c'], [['a', 'b'], ['b', 'c']], [latency(0, 0.1, 4), latency(1, 0.05, 6), latency(2, 0.02, 10)], 'a'),
    );
    expect(ranked.map((r) => r.entity)).toEqual(['c', 'b', 'a']);
    expect(ranked[0].score).toBeGreaterThan(0.5);
    expect(ranked[0].evidence.join('\n')).toMatch(/latency p90 of c rose \d+(\.\d+)?x/);
    expect(ranked[0].evidence).toContain('c has no known dependencies');
  });

  it('blames the shared callee when two callers are slow because of it', () => {
    // fe -> x, fe -> y, x -> s, y -> s, x -> ok; s is slow, x and y inherit it.
    const names = ['fe', 'x', 'y', 's', 'ok'];
    const ranked = rankRootCauses(
      input(
        names,
        [['fe', 'x'], ['fe', 'y'], ['x', 's'], ['y', 's'], ['x', 'ok']],
        [latency(0, 0.2, 3), latency(1, 0.1, 5), latency(2, 0.1, 5), latency(3, 0.01, 20), latency(4, 0.01, 1)],
        'fe',
      ),
    );
    expect(ranked[0].entity).toBe('s');
    expect(ranked[0].evidence.join('\n')).toMatch(/2 entities that depend on it are anomalous/);
    const ok = ranked.find((r) => r.entity === 'ok');
    expect(ok?.score ?? 0).toBeLessThan(0.01);
  });

  it('works without a normal-operation reference, from the data before the incident', () => {
    const ranked = rankRootCauses(
      input(['a', 'b', 'c'], [['a', 'b'], ['b', 'c']], [latency(0, 0.1, 4, false), latency(1, 0.05, 6, false), latency(2, 0.02, 10, false)], 'a'),
    );
    expect(ranked[0].entity).toBe('c');
    expect(ranked[0].evidence.join('\n')).toContain('against the data before the incident');
  });

  it('prefers the callee whose own dependencies are normal over the one with an anomalous dependency', () => {
    // fe -> p -> q; fe -> r. p and q slow (q is the origin), r normal.
    const ranked = rankRootCauses(
      input(['fe', 'p', 'q', 'r'], [['fe', 'p'], ['p', 'q'], ['fe', 'r']], [latency(0, 0.1, 3), latency(1, 0.05, 8), latency(2, 0.01, 8), latency(3, 0.01, 1)], 'fe'),
    );
    expect(ranked[0].entity).toBe('q');
    expect(ranked.find((r) => r.entity === 'p')?.evidence).toContain('1 of its 1 dependencies are anomalous too');
  });

  it('does not blame a callee for more traffic: requests are caused by callers', () => {
    // fe -> api -> db; api slow (origin), db only receives more requests.
    const ranked = rankRootCauses(
      input(['fe', 'api', 'db'], [['fe', 'api'], ['api', 'db']], [latency(0, 0.1, 3), latency(1, 0.05, 8), latency(2, 100, 10, true, 'throughput')], 'fe'),
    );
    expect(ranked[0].entity).toBe('api');
    expect(ranked.find((r) => r.entity === 'db')?.evidence.join('\n')).toMatch(/traffic; not counted as a fault/);
  });

  it('uses an anomaly that was already there before the window only as far as it grew', () => {
    // fe -> old, fe -> new: `old` was equally slow before the window (chronic), `new` starts at the target.
    const chronic: RcaSeries = { ...latency(1, 0.05, 1), values: Float64Array.from({ length: STEPS }, () => 0.5) };
    const ranked = rankRootCauses(input(['fe', 'old', 'new'], [['fe', 'old'], ['fe', 'new']], [latency(0, 0.1, 3), chronic, latency(2, 0.05, 8)], 'fe'));
    expect(ranked[0].entity).toBe('new');
  });

  it('raises an entity with a change event just before the target', () => {
    const base = input(['fe', 'l', 'r'], [['fe', 'l'], ['fe', 'r']], [latency(0, 0.1, 3), latency(1, 0.05, 1.5), latency(2, 0.05, 1.5)], 'fe');
    const withDeploy = rankRootCauses({ ...base, events: [{ entity: 2, timestamp: TARGET_TIME - 3 * STEP, title: 'deploy 1.2 -> 1.3' }] });
    expect(withDeploy[0].entity).toBe('r');
    expect(withDeploy[0].evidence[0]).toBe('change on r: deploy 1.2 -> 1.3 3 min before the target');
  });

  it('ignores NaN and Infinity samples instead of failing or scoring them', () => {
    const broken = latency(2, 0.02, 10);
    const values = Float64Array.from(broken.values);
    values[TARGET_INDEX] = Number.NaN;
    values[TARGET_INDEX + 1] = Number.POSITIVE_INFINITY;
    const allNaN: RcaSeries = { ...latency(1, 0.05, 1), values: new Float64Array(STEPS).fill(Number.NaN), reference: new Float64Array(50).fill(Number.NaN) };
    const ranked = rankRootCauses(input(['a', 'b', 'c'], [['a', 'b'], ['b', 'c']], [latency(0, 0.1, 4), allNaN, { ...broken, values }], 'a'));
    expect(ranked[0].entity).toBe('c');
    for (const r of ranked) expect(Number.isFinite(r.score)).toBe(true);
    expect(ranked.reduce((s, r) => s + r.score, 0)).toBeCloseTo(1, 6);
  });

  it('rejects malformed input with a coded error that says what is wrong', () => {
    const good = input(['a', 'b'], [['a', 'b']], [latency(0, 0.1, 4)], 'a');
    const cases: [RcaInput, RegExp][] = [
      [{ ...good, target: { ...good.target, entity: 7 } }, /target entity 7 is not one of the 2 entities/],
      [{ ...good, edges: Uint32Array.of(0, 1, 0) }, /edges has odd length 3/],
      [{ ...good, edges: Uint32Array.of(0, 5) }, /edge endpoint 5/],
      [{ ...good, series: [{ ...good.series[0], values: new Float64Array(3) }] }, /has 3 values for 12 timestamps/],
      [{ ...good, timestamps: Float64Array.from(timestamps).reverse() }, /ascending/],
    ];
    for (const [bad, message] of cases) {
      let caught: unknown;
      try {
        rankRootCauses(bad);
      } catch (error) {
        caught = error;
      }
      expect(isSextantError(caught) && caught.code).toBe('SEXTANT_ERR_VALUE_REJECTED');
      expect((caught as Error).message).toMatch(message);
    }
  });

  it('ranks only the target and what it depends on', () => {
    const ranked = rankRootCauses(
      input(['client', 'a', 'b', 'other'], [['client', 'a'], ['a', 'b']], [latency(0, 0.1, 5), latency(1, 0.1, 4), latency(2, 0.1, 4), latency(3, 0.1, 9)], 'a'),
    );
    expect(ranked.map((r) => r.entity).sort()).toEqual(['a', 'b']);
  });

  it('needs a larger excursion on a series whose normal operation has heavy tails', () => {
    // fe -> bursty, fe -> steady. `bursty` normally jumps to ~4x one sample in ten (a cold-starting
    // function); in the window it reaches 3x, which is normal for it. `steady` rises 2.5x, far
    // outside anything it did before. Only tail calibration tells them apart: both saturate on MAD.
    const burstyReference = Float64Array.from({ length: 200 }, (_, i) => 0.2 * (1 + 0.05 * noise(9, i)) * (i % 10 === 3 ? 4 : 1));
    const bursty: RcaSeries = { ...latency(1, 0.2, 3), reference: burstyReference };
    const series = [latency(0, 0.1, 2), bursty, latency(2, 0.05, 2.5)];
    const edges: [string, string][] = [['fe', 'bursty'], ['fe', 'steady']];
    const calibrated = rankRootCauses(input(['fe', 'bursty', 'steady'], edges, series, 'fe'));
    expect(calibrated[0].entity).toBe('steady');
    expect(calibrated.find((r) => r.entity === 'bursty')?.anomaly).toBe(0);
    const mad = rankRootCauses(input(['fe', 'bursty', 'steady'], edges, series, 'fe', { options: { tailQuantile: 0 } }));
    expect(mad.find((r) => r.entity === 'bursty')?.anomaly).toBe(1);
  });

  it('puts a service above its equally anomalous mirror (a load balancer seen only by one caller)', () => {
    // fe -> lb and fe -> svc; svc -> db; client -> svc. lb mirrors svc exactly. lb comes first in
    // the entity list, so index order would pick it.
    const names = ['lb', 'fe', 'svc', 'db', 'client'];
    const edges: [string, string][] = [['fe', 'lb'], ['fe', 'svc'], ['svc', 'db'], ['client', 'svc']];
    const series = (clientFactor: number): RcaSeries[] => [latency(0, 0.01, 20), latency(1, 0.1, 3), latency(2, 0.01, 20), latency(3, 0.01, 1), latency(4, 0.02, clientFactor)];
    for (const clientFactor of [1, 5]) {
      const ranked = rankRootCauses(input(names, edges, series(clientFactor), 'fe'));
      expect(ranked.map((r) => r.entity).slice(0, 2)).toEqual(['svc', 'lb']);
    }
  });

  it('leaves a series whose reference is mostly gaps unknown instead of calling it anomalous', () => {
    // fe -> sparse, fe -> slow. `sparse` has data in 5 % of its reference and spikes in the window.
    const sparseReference = Float64Array.from({ length: 200 }, (_, i) => (i % 20 === 0 ? 0.01 : Number.NaN));
    const sparse: RcaSeries = { ...latency(1, 0.01, 50), reference: sparseReference };
    sparse.values.fill(Number.NaN, 0, TARGET_INDEX - 1);
    const ranked = rankRootCauses(input(['fe', 'sparse', 'slow'], [['fe', 'sparse'], ['fe', 'slow']], [latency(0, 0.1, 3), sparse, latency(2, 0.05, 4)], 'fe'));
    expect(ranked[0].entity).toBe('slow');
    expect(ranked.find((r) => r.entity === 'sparse')?.evidence).toContain('sparse shows no anomaly of its own');
  });

  it('does not hand a failing service\'s blame to a dependency that only got slow (other kind than the target)', () => {
    // fe -> svc -> dep. The target is fe's availability. svc fails (availability 100 -> 80),
    // dep only gets slower (a side effect): svc is the origin of the failures.
    const avail = (entity: number, drop: number): RcaSeries => ({
      entity,
      metric: 'availability',
      kind: 'availability',
      values: Float64Array.from({ length: STEPS }, (_, i) => (i >= TARGET_INDEX ? 100 - drop : 100) - 0.1 * Math.abs(noise(entity + 7, i))),
      reference: Float64Array.from({ length: 200 }, (_, i) => 100 - 0.1 * Math.abs(noise(entity + 3, i))),
    });
    const names = ['fe', 'svc', 'dep'];
    const series = [avail(0, 5), avail(1, 20), avail(2, 0), latency(2, 0.05, 8)];
    const build = (options: RcaInput['options']): RcaInput => ({
      ...input(names, [['fe', 'svc'], ['svc', 'dep']], series, 'fe'),
      target: { entity: 0, kind: 'availability', timestamp: TARGET_TIME },
      options,
    });
    const ranked = rankRootCauses(build(undefined));
    expect(ranked[0].entity).toBe('svc');
    expect(ranked.find((r) => r.entity === 'dep')?.anomaly).toBeLessThanOrEqual(0.2);
    // Without the cap both saturate and the slow dependency takes the blame: the cap is what decides.
    expect(rankRootCauses(build({ otherKindCeiling: 1 }))[0].entity).toBe('dep');
  });
});
