import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '@sextant/plugin-api';
import { resolveConfig } from '@sextant/testkit';
import { MEMCACHED_METRICS, memcachedCollectorFactory, parseEndpoint, parseStats, renderMetricsTable, statValue } from '../src/index.js';

const problems = async (config: unknown) => {
  try {
    await resolveConfig(memcachedCollectorFactory, config);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('memcached config', () => {
  it('fills defaults and parses durations and endpoints', async () => {
    expect(await resolveConfig(memcachedCollectorFactory, { endpoint: 'cache:11212', timeout: '1.5s' })).toEqual({ endpoint: 'cache:11212', timeout: 1500, resource: {} });
    expect(parseEndpoint('cache')).toEqual({ host: 'cache', port: 11211 });
    expect(parseEndpoint('[::1]:11300')).toEqual({ host: '::1', port: 11300 });
    expect(parseEndpoint('cache:99999')).toBeUndefined();
  });

  it('lists every problem with a fix', async () => {
    const message = await problems({ endpoint: 'memcached://cache:11211', timeout: 'soon', bogus: 1 });
    expect(message).toContain('memcached.endpoint: must be host:port, not a URL');
    expect(message).toContain('did you mean "cache:11211"');
    expect(message).toContain('memcached.timeout');
    expect(message).toMatch(/bogus/);
    expect(await problems({ endpoint: 'two words' })).toContain('must be host:port');
  });
});

describe('stats replies', () => {
  it('reads STAT lines, counts the rest, and takes decimal numbers only', () => {
    const reply = parseStats('STAT pid 12\r\nSTAT version 1.6.18\r\nSTAT rusage_user 0.123456\r\nnonsense\r\nSTAT \r\nEND\r\n');
    expect(reply.stats.get('pid')).toBe('12');
    expect(reply.stats.get('version')).toBe('1.6.18');
    expect(reply.rejectedLines).toBe(2);
    expect(statValue('0.123456')).toBe(0.123456);
    expect(statValue('1.6.18')).toBeNaN();
    expect(statValue('1e3')).toBeNaN();
    expect(statValue(undefined)).toBeUndefined();
  });
});

describe('metadata', () => {
  it('the README documents every metric (regenerate the table with renderMetricsTable())', () => {
    expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain(renderMetricsTable());
  });

  it('names every metric once, with a unit, rates per second', () => {
    const specs = Object.values(MEMCACHED_METRICS);
    expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
    for (const s of specs) {
      expect(s.name).toMatch(/^memcached\.[a-z_.]+$/);
      if (s.type === 'rate') expect(s.unit).toMatch(/\/s$/);
    }
  });

  it('ships a valid manifest with discovery rules for memcached images and port 11211', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(parseManifest(pkg.sextant).ok).toBe(true);
    expect(pkg.sextant.discovery[0]).toMatchObject({ factory: 'memcached', ports: [11211], config: { endpoint: '{{host}}:{{port}}' } });
  });
});
