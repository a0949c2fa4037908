/** Deterministic synthetic workloads for the baseline tests (no Math.random: runs repeat exactly). */

/** Mulberry32: a small seeded PRNG. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal from a uniform source (Box-Muller). */
export function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export const DAY = 86_400_000;
export const STEP = 300_000; // 5 minutes
export const START = Date.UTC(2026, 0, 5); // a Monday

/** 100 + 30 sin(daily) + N(0, 3). */
export function dailySeries(seed = 1) {
  const noise = gaussian(seeded(seed));
  return (t: number) => 100 + 30 * Math.sin((2 * Math.PI * (t - START)) / DAY) + 3 * noise();
}
