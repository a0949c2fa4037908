import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SWARM_METRICS, renderMetricsTable } from '../src/index.js';

describe('metrics metadata', () => {
  it('is what the README documents (regenerate the table with renderMetricsTable())', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(renderMetricsTable());
  });

  it('names every metric once, under docker.swarm., with a unit', () => {
    const specs = Object.values(SWARM_METRICS);
    expect(new Set(specs.map((s) => s.metric)).size).toBe(specs.length);
    for (const s of specs) {
      expect(s.metric).toMatch(/^docker\.swarm\.[a-z_.]+$/);
      expect(s.unit.length).toBeGreaterThan(0);
    }
  });
});
