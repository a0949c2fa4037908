import { describe, expect, it } from 'vitest';
import { BaselineModel } from '../src/index.js';
import { PAGE_SLOTS } from '../src/baseline/model.js';
import { DAY, START, STEP, dailySeries, gaussian, seeded } from './synthetic.js';

/** The baseline detector's default threshold: a score at or above it is a detection. */
const DETECTION = 0.35;

describe('BaselineModel', () => {
  it('detects a daily period in a daily series and none in plain noise', () => {
    const m = new BaselineModel();
    const daily = m.addSeries();
    const flat = m.addSeries();
    const value = dailySeries(3);
    const noise = gaussian(seeded(4));
    for (let t = START; t < START + 4 * DAY; t += STEP) {
      m.update(daily, t, value(t));
      m.update(flat, t, 50 + 5 * noise());
    }
    expect(m.periodMs(daily)).toBe(DAY);
    expect(m.periodMs(flat)).toBe(0);
    // With the season learned, the band follows the daily curve: at 06:00 it expects ~130.
    const six = START + 4 * DAY + DAY / 4;
    m.update(daily, six, value(six));
    expect(m.expected(daily)).toBeGreaterThan(120);
    expect(m.expected(daily)).toBeLessThan(140);
    expect(m.lower(daily)).toBeLessThan(m.expected(daily));
    expect(m.upper(daily)).toBeGreaterThan(m.expected(daily));
  });

  it('moves from learning to provisional to trusted', () => {
    const m = new BaselineModel();
    const s = m.addSeries();
    const seen = new Set<string>();
    const order: string[] = [];
    const value = dailySeries(5);
    for (let t = START; t < START + 3 * DAY; t += STEP) {
      m.update(s, t, value(t));
      const state = m.state(s);
      if (!seen.has(state)) {
        seen.add(state);
        order.push(state);
      }
    }
    expect(order).toEqual(['learning', 'provisional', 'trusted']);
  });

  it('restores a snapshot that continues exactly like the original', () => {
    const a = new BaselineModel();
    for (let i = 0; i < 20; i++) a.addSeries(); // more than the initial capacity: growth is covered
    const values = Array.from({ length: 20 }, (_, i) => dailySeries(10 + i));
    const feed = (m: BaselineModel, from: number, to: number, out?: number[]) => {
      for (let t = from; t < to; t += STEP) for (let s = 0; s < 20; s++) {
        const score = m.update(s, t, values[s](t) + (s === 3 && t === START + 3 * DAY ? 80 : 0));
        out?.push(score, m.expected(s), m.lower(s), m.upper(s));
      }
    };
    feed(a, START, START + 2.5 * DAY);
    const bytes = a.snapshot();
    expect(bytes.byteLength).toBeLessThanOrEqual(16 + 20 * 2048);
    const b = new BaselineModel();
    b.restore(bytes);
    expect(b.size).toBe(20);
    const outA: number[] = [];
    const outB: number[] = [];
    const copies = Array.from({ length: 20 }, (_, i) => dailySeries(10 + i));
    // Advance the copies to the same point in their random streams.
    for (let t = START; t < START + 2.5 * DAY; t += STEP) for (let s = 0; s < 20; s++) copies[s](t);
    for (let t = START + 2.5 * DAY; t < START + 4 * DAY; t += STEP) {
      for (let s = 0; s < 20; s++) {
        const v = values[s](t) + (s === 3 && t === START + 3 * DAY ? 80 : 0);
        const w = copies[s](t) + (s === 3 && t === START + 3 * DAY ? 80 : 0);
        outA.push(a.update(s, t, v), a.expected(s), a.state(s) === 'trusted' ? 1 : 0);
        outB.push(b.update(s, t, w), b.expected(s), b.state(s) === 'trusted' ? 1 : 0);
      }
    }
    expect(outB).toEqual(outA);
    expect(Math.max(...outA.filter((_, i) => i % 3 === 0))).toBeGreaterThan(0.5); // the spike shows
  });

  it('grows a page at a time: 2,500 series hold at most one page unused, and a snapshot across pages restores exactly', () => {
    const a = new BaselineModel();
    const n = 2500;
    for (let i = 0; i < n; i++) a.addSeries();
    // Doubling would hold 4096 slots for 2500 series (64 % unused); pages hold 3 x 1024.
    expect(a.allocatedBytes).toBeLessThanOrEqual((n + PAGE_SLOTS) * BaselineModel.bytesPerSeries);
    expect(a.allocatedBytes).toBeLessThan(4096 * BaselineModel.bytesPerSeries);
    const noise = gaussian(seeded(21));
    const value = (s: number, t: number) => 100 + (s % 17) + 10 * Math.sin((2 * Math.PI * (t - START)) / DAY + s) + noise();
    for (let t = START; t < START + 200 * STEP; t += STEP) for (let s = 0; s < n; s++) a.update(s, t, value(s, t));
    const bytes = a.snapshot();
    const b = new BaselineModel();
    b.restore(bytes);
    expect(b.size).toBe(n);
    expect(Buffer.compare(b.snapshot(), bytes)).toBe(0); // byte for byte (toEqual walks 3.8 MB slowly)
    // The last slot of a page, the first of the next and the very last continue alike in both.
    const probes = [0, PAGE_SLOTS - 1, PAGE_SLOTS, n - 1];
    const outA: number[] = [];
    const outB: number[] = [];
    for (let t = START + 200 * STEP; t < START + 260 * STEP; t += STEP) {
      for (const s of probes) {
        const v = value(s, t) + (t === START + 230 * STEP ? 60 : 0);
        outA.push(a.update(s, t, v), a.expected(s), a.samples(s));
        outB.push(b.update(s, t, v), b.expected(s), b.samples(s));
      }
    }
    expect(outB).toEqual(outA);
    expect(Math.max(...outA.filter((_, i) => i % 3 === 0))).toBeGreaterThan(0.35); // the jump shows
    expect(a.isFinite() && b.isFinite()).toBe(true);
  });

  it('refuses bytes that are not a snapshot, naming why', () => {
    const m = new BaselineModel();
    expect(() => m.restore(new Uint8Array(3))).toThrow(/too short/);
    expect(() => m.restore(new Uint8Array(64))).toThrow(/bad magic/);
    const good = new BaselineModel();
    good.addSeries();
    const bytes = good.snapshot();
    expect(() => m.restore(bytes.subarray(0, bytes.length - 8))).toThrow(/should be/);
  });

  it('survives bad input without NaN in its state, and counts what it dropped', () => {
    const m = new BaselineModel();
    const series = [m.addSeries(), m.addSeries(), m.addSeries(), m.addSeries()];
    const rand = seeded(9);
    let t = START;
    const batch = (n: number, f: (i: number) => [number, number, number]) => {
      for (let i = 0; i < n; i++) {
        const [s, ts, v] = f(i);
        const score = m.update(s, ts, v);
        expect(score).toBeGreaterThanOrEqual(0);
        expect(score).toBeLessThanOrEqual(1);
      }
      expect(m.isFinite()).toBe(true); // the invariant, after every batch
    };
    for (let round = 0; round < 200; round++) {
      t += STEP;
      const now = t;
      batch(8, (i) => {
        const s = series[i % 4];
        const r = rand();
        // series 0: NaN/Inf/huge; 1: duplicates and out-of-order; 2: constant; 3: changes resolution and has gaps
        if (s === 0) return [s, now, r < 0.1 ? Number.NaN : r < 0.2 ? Infinity : r < 0.25 ? -Infinity : r < 0.3 ? 1e308 : 10 + r];
        if (s === 1) return [s, i < 4 ? now : now - STEP * 2, 5 + r];
        if (s === 2) return [s, now + i, 42];
        return [s, round < 100 ? now + i * 1000 : now + i * 600_000 + (round % 10 === 0 ? 7 * DAY * round : 0), 100 * r];
      });
    }
    expect(m.dropped.nan).toBeGreaterThan(0);
    expect(m.dropped.duplicate).toBeGreaterThan(0);
    expect(m.dropped.out_of_order).toBeGreaterThan(0);
    expect(m.state(2)).not.toBe('learning');
    expect(m.expected(2)).toBe(42); // a constant series expects itself
  });

  it('alarms once per episode: a burst of spikes scores high once, then stays quiet for quietMs', () => {
    const m = new BaselineModel();
    const s = m.addSeries();
    const noise = gaussian(seeded(21));
    let t = START;
    for (let i = 0; i < 2000; i++) m.update(s, (t += STEP), 50 + noise());
    const scores: number[] = [];
    for (let i = 0; i < 40; i++) scores.push(m.update(s, (t += STEP), i % 2 === 0 ? 90 + i : 50 + noise()));
    const alarms = scores.filter((x) => x >= m.params.alarmLevel);
    expect(alarms).toHaveLength(1);
    expect(scores[0]).toBeGreaterThanOrEqual(m.params.alarmLevel); // the first spike, not a later one
    expect(scores.slice(1).every((x) => x === 0)).toBe(true);
    // After the quiet period a repeat of the episode's surprise stays silent (surprise memory) ...
    for (let i = 0; i < m.params.quietMs / STEP; i++) m.update(s, (t += STEP), 50 + noise());
    expect(m.update(s, (t += STEP), 128)).toBe(0);
    // ... and once that memory has faded (a half-life), a new episode alarms again.
    for (let i = 0; i < m.params.surpriseHalfLifeMs / STEP; i++) m.update(s, (t += STEP), 50 + noise());
    expect(m.update(s, (t += STEP), 200)).toBeGreaterThanOrEqual(m.params.alarmLevel);
  });

  it('flags a level the series never takes, even inside its usual range (context novelty)', () => {
    // Shape novelty off: it sees the flapping below as a new way of moving (tested on its own below).
    const m = new BaselineModel({ shapeScore: 0 });
    const s = m.addSeries();
    // A square wave: 20 samples at 10, 20 at 30, for 100 periods. Its contexts are all learned.
    let t = START;
    const wave = (i: number) => (Math.floor(i / 20) % 2 === 0 ? 10 : 30);
    for (let i = 0; i < 4000; i++) m.update(s, (t += STEP), wave(i));
    const familiar: number[] = [];
    for (let i = 4000; i < 4040; i++) familiar.push(m.update(s, (t += STEP), wave(i)));
    expect(Math.max(...familiar)).toBeLessThan(0.3);
    // Flapping 10, 30, 10 uses known values in an order never seen: it scores, but less than an alarm.
    const flapping: number[] = [];
    for (let i = 0; i < 3; i++) flapping.push(m.update(s, (t += STEP), i % 2 === 0 ? 10 : 30));
    expect(Math.max(...flapping)).toBeGreaterThan(Math.max(...familiar));
    // 20 lies between the two levels: never seen, so it alarms.
    expect(m.update(s, (t += STEP), 20)).toBeGreaterThanOrEqual(m.params.alarmLevel);
  });

  it('reports a widening spread once per episode even when no single point stands out (variance change)', () => {
    // Calm: N(0, 0.2) with a uniform sample in [-1, 1] one time in 10, so every level and most
    // orders are familiar. Then the uniform samples become the rule: the spread more than doubles.
    const run = (params: Partial<BaselineModel['params']>) => {
      const m = new BaselineModel(params);
      const s = m.addSeries();
      const rand = seeded(31);
      const noise = gaussian(seeded(32));
      const calm = () => (rand() < 0.1 ? 2 * rand() - 1 : Math.max(-1, Math.min(1, 0.2 * noise())));
      const wide = () => 2 * rand() - 1;
      let t = START;
      const calmAlarms: number[] = [];
      for (let i = 0; i < 4000; i++) if (m.update(s, (t += STEP), calm()) >= m.params.alarmLevel && i > 3000) calmAlarms.push(i);
      const episode = (gen: () => number, count: number) => {
        const out: number[] = [];
        for (let i = 0; i < count; i++) out.push(m.update(s, (t += STEP), gen()));
        return out;
      };
      const first = episode(wide, 300);
      const after = episode(calm, 2000);
      const second = episode(wide, 300);
      return { calmAlarms, first, after, second, alarm: m.params.alarmLevel };
    };
    // Alarms counted at 0.6 here: a context score of 0.5 (every context of this noise is near a
    // seen one) is not an alarm of this test. Shape contexts, which also see this change (next
    // test), are off, so the variance signal is alone.
    const withSignal = run({ shapeScore: 0, alarmLevel: 0.6 });
    const without = run({ varianceRatio: 0, shapeScore: 0, alarmLevel: 0.6 });
    const alarms = (xs: number[], level: number) => xs.filter((x) => x >= level).length;
    // In the calm part the signal adds nothing (other signals may flag a rare order of levels).
    expect(withSignal.calmAlarms).toEqual(without.calmAlarms);
    expect(alarms(without.first, without.alarm)).toBe(0);
    expect(alarms(withSignal.first, withSignal.alarm)).toBe(1);
    // Back to calm it re-arms, and the next widening is reported again.
    expect(alarms(withSignal.after, withSignal.alarm)).toBe(0);
    expect(alarms(withSignal.second, withSignal.alarm)).toBe(1);
  });

  it('finds a slow series turned fast through its shape contexts, earlier than without them', () => {
    // Calm: a square wave between 0 and 10 that switches every 200 samples. Then it switches every
    // sample: the same two levels, but a fast mean and a volatility this series never had. The
    // shape contexts report it at once; the other signals only later (a level-shift confirmation).
    const run = (params: Partial<BaselineModel['params']>) => {
      const m = new BaselineModel({ varianceRatio: 0, ...params });
      const s = m.addSeries();
      const noise = gaussian(seeded(5));
      let t = START;
      const calm: number[] = [];
      for (let i = 0; i < 4000; i++) if (m.update(s, (t += STEP), (Math.floor(i / 200) % 2) * 10 + 0.05 * noise()) >= DETECTION && i > 1500) calm.push(i);
      let first = -1;
      for (let i = 0; i < 300 && first < 0; i++) if (m.update(s, (t += STEP), (i % 2) * 10 + 0.05 * noise()) >= DETECTION) first = i;
      expect(m.isFinite()).toBe(true);
      return { calm, first };
    };
    const shape = run({});
    const none = run({ shapeScore: 0 });
    expect(shape.calm).toEqual(none.calm);
    expect(shape.first).toBeGreaterThanOrEqual(0);
    expect(shape.first).toBeLessThan(10);
    expect(none.first === -1 || none.first > 50).toBe(true);
  });

  it('rejects parameters its state layout cannot hold', () => {
    expect(() => new BaselineModel({ contextLevels: 13 })).toThrow(/contextLevels/);
    expect(() => new BaselineModel({ contextDistance: 0.5 })).toThrow(/contextDistance/);
  });

  it('keeps state within 2 KiB per series', () => {
    expect(BaselineModel.bytesPerSeries).toBeLessThanOrEqual(2048);
  });
});
