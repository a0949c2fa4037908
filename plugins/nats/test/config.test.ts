import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '@sextant/plugin-api';
import { resolveConfig } from '@sextant/testkit';
import { NATS_METRICS, natsCollectorFactory, renderMetricsTable } from '../src/index.js';

const problems = async (config: unknown) => {
  try {
    await resolveConfig(natsCollectorFactory, config);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('nats config', () => {
  it('fills defaults and parses durations', async () => {
    expect(await resolveConfig(natsCollectorFactory, { url: 'http://bus:8222', timeout: '1s' })).toEqual({ url: 'http://bus:8222', jetstream: true, maxJetstreamSeries: 1000, timeout: 1000, resource: {} });
  });

  it('lists every problem with a fix', async () => {
    expect(await problems({ url: 'nats://bus:4222' })).toContain('did you mean "http://bus:8222"');
    expect(await problems({ url: 'bus:8222' })).toContain('did you mean "http://bus:8222"');
    expect(await problems({ url: 'ftp://bus', timeout: 'x', bogus: 1 })).toMatch(/http:\/\/ or https:\/\/[\s\S]*timeout[\s\S]*bogus/);
  });
});

describe('metadata', () => {
  it('the README documents every metric (regenerate the table with renderMetricsTable())', () => {
    expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain(renderMetricsTable());
  });

  it('names every metric once, with a unit, rates per second', () => {
    const specs = Object.values(NATS_METRICS);
    expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
    for (const s of specs) {
      expect(s.name).toMatch(/^nats\.[a-z_.]+$/);
      if (s.type === 'rate') expect(s.unit).toMatch(/\/s$/);
    }
  });

  it('ships a valid manifest with discovery rules for NATS images and the monitoring port', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(parseManifest(pkg.sextant).ok).toBe(true);
    expect(pkg.sextant.discovery[0]).toMatchObject({ factory: 'nats', ports: [8222], config: { url: 'http://{{host}}:{{port}}' } });
  });
});
