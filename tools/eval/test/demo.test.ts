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
      ['checkout latency x8, conversion drops', true],
    ]);
    // The leak is reported before memory reaches the limit (about 20 h after it starts).
    expect(summary.injected[2].delayMinutes!).toBeLessThan(20 * 60);
    // What a person sees are incidents after noise control: one for each injected problem (the
    // latency shift too, a single lasting change), and nothing that was not injected.
    expect(summary.injected.map((i) => i.incident)).toEqual([true, true, true, true]);
    expect(summary.falseIncidents).toBe(0);
    expect(summary.incidents).toBeLessThan(summary.anomalies.length);
    expect(lines.at(-1)).toMatch(/4\/4 incidents found \(4 with an incident\), \d+ other anomalies -> \d+ incidents after noise control/);
  });

  it("shows the shop's conversion drop in the checkout latency incident, labelled business impact", async () => {
    const lines: string[] = [];
    const summary = await runDemo({ days: 3, onLine: (l) => lines.push(l) });
    // One incident for the checkout slowdown and the storefront's conversion drop together: the
    // site calls checkout, so the drop is its symptom, not a second incident.
    const shop = summary.reported.filter((r) => r.entities.includes('service:storefront') || r.entities.includes('service:checkout'));
    expect(shop).toHaveLength(1);
    expect([...shop[0].entities].sort()).toEqual(['service:checkout', 'service:storefront']);
    expect(shop[0].impact).toBe('business');
    expect(shop[0].title).toMatch(/^http\.server\.request\.duration spiked .*; business impact: rum\.conversion_rate dropped to 0\.0\d+ \(expected about 0\.02/);
    expect(summary.injected[3].impact).toBe('business');
    // the other problems cost no money and are not labelled so
    expect(summary.reported.filter((r) => r.impact === 'business')).toHaveLength(1);
    expect(summary.injected.slice(0, 3).map((i) => i.impact)).toEqual(['user', 'user', 'infrastructure']);
    // what the person running `sextant demo` reads
    expect(lines).toContainEqual(expect.stringMatching(/^FOUND {2}checkout latency x8, conversion drops on checkout .*, incident opened \(business impact\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^incident \d\d-\d\d 17:\d\d \[business\/critical\] .*business impact: rum\.conversion_rate dropped/));
  });
});
