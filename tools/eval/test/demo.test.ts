import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/index.js';

describe('runDemo', () => {
  it('finds the injected spike, level shift and memory leak through the production detector', async () => {
    const lines: string[] = [];
    const summary = await runDemo({ days: 3, onLine: (l) => lines.push(l) });
    expect(summary.injected.map((i) => [i.name, i.found])).toEqual([
      ['traffic spike x3', true],
      ['latency level shift x2.5', true],
      ['memory leak 60 MB/h toward a 2 GB limit', true],
    ]);
    // The leak is reported before memory reaches the limit (about 20 h after it starts).
    expect(summary.injected[2].delayMinutes!).toBeLessThan(20 * 60);
    // What a person sees are incidents after noise control: one for each injected problem (the
    // latency shift too, a single lasting change), and nothing that was not injected.
    expect(summary.injected.map((i) => i.incident)).toEqual([true, true, true]);
    expect(summary.falseIncidents).toBe(0);
    expect(summary.incidents).toBeLessThan(summary.anomalies.length);
    expect(lines.at(-1)).toMatch(/3\/3 incidents found \(3 with an incident\), \d+ other anomalies -> \d+ incidents after noise control/);
  });
});
