import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RUNTIME_METRICS, metricTableMarkdown } from '../src/telemetry/metrics.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('the runtime metric table (src/telemetry/metrics.ts)', () => {
  it('is what the README shows between the metrics markers', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const shown = /<!-- metrics:begin -->\n([\s\S]*?)\n<!-- metrics:end -->/.exec(readme)?.[1];
    expect(shown, 'README.md has no <!-- metrics:begin --> ... <!-- metrics:end --> block').toBeDefined();
    expect(shown).toBe(metricTableMarkdown());
  });

  it('lists every sextant_* metric the runtime code records, each name once', () => {
    const listed = new Set(RUNTIME_METRICS.map((m) => m.name));
    expect(listed.size).toBe(RUNTIME_METRICS.length);
    const used = new Set<string>();
    for (const file of sources(join(root, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\.(?:add|set|observe)\(\s*'(sextant_[a-z0-9_]+)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(20);
    expect([...used].filter((name) => !listed.has(name))).toEqual([]);
  });

  it('names counters *_total and gives histograms buckets', () => {
    for (const m of RUNTIME_METRICS) {
      expect(m.type === 'counter', m.name).toBe(m.name.endsWith('_total'));
      if (m.type === 'histogram') expect(m.buckets?.length, m.name).toBeGreaterThan(3);
    }
  });
});
