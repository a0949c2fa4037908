import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIELD_METRICS, REDIS_METRICS, renderMetricsTable } from '../src/index.js';

describe('metrics metadata', () => {
  it('is what the README documents (regenerate the table with renderMetricsTable())', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(renderMetricsTable());
  });

  it('names every metric once, with a unit, and an INFO field where it reads one', () => {
    const specs = Object.values(REDIS_METRICS);
    expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
    for (const s of specs) {
      expect(s.name).toMatch(/^redis\.[a-z_.]+$/);
      expect(s.unit.length).toBeGreaterThan(0);
      if (s.read === 'rate') expect(s.type).toBe('rate');
    }
    for (const s of FIELD_METRICS) expect(s.field).toMatch(/^[a-z_]+$/);
  });
});
