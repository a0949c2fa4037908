import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '@sextant/plugin-api';
import { resolveConfig } from '@sextant/testkit';
import { csvNumber, csvUrl, HAPROXY_METRICS, haproxyCollectorFactory, parseInfo, parseStatsCsv, renderMetricsTable, statusUp } from '../src/index.js';

const problems = async (config: unknown) => {
  try {
    await resolveConfig(haproxyCollectorFactory, config);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('haproxy config', () => {
  it('fills defaults and parses durations', async () => {
    expect(await resolveConfig(haproxyCollectorFactory, { url: 'http://lb:8404/stats', timeout: '2s' })).toEqual({
      url: 'http://lb:8404/stats', proxies: [], maxRows: 1000, timeout: 2000, rejectUnauthorized: true, resource: {},
    });
    expect(csvUrl('http://lb:8404/stats')).toBe('http://lb:8404/stats;csv;norefresh');
    expect(csvUrl('http://lb:8404/stats;csv')).toBe('http://lb:8404/stats;csv');
  });

  it('lists every problem with a fix', async () => {
    expect(await problems({})).toContain('set exactly one of url');
    expect(await problems({ url: 'http://lb/stats', socket: '/run/haproxy.sock' })).toContain('set exactly one of url');
    expect(await problems({ url: 'lb:8404/stats' })).toContain('did you mean "http://lb:8404/stats"');
    expect(await problems({ url: 'http://ops:pw@lb/stats' })).toContain('put the stats credentials in username/password');
    expect(await problems({ socket: '/run/haproxy.sock', username: 'ops' })).toContain('protected by its file mode');
    expect(await problems({ url: 'ftp://lb/stats', maxRows: 0, bogus: 1 })).toMatch(/http:\/\/ or https:\/\/[\s\S]*maxRows[\s\S]*bogus/);
  });
});

describe('stats CSV', () => {
  it('reads the header and rows, refuses what is not CSV, and maps statuses', () => {
    const csv = parseStatsCsv('# pxname,svname,scur,\nweb,FRONTEND,3,\nbroken,row\n', 'test');
    expect(csv.columns).toEqual(['pxname', 'svname', 'scur', '']);
    expect(csv.rows).toEqual([['web', 'FRONTEND', '3', '']]);
    expect(csv.rejectedRows).toBe(1);
    expect(() => parseStatsCsv('<html></html>', 'test')).toThrow(/not HAProxy CSV/);
    expect(parseInfo('Name: HAProxy\nCurrConns: 4\n').get('CurrConns')).toBe('4');
    expect(csvNumber('')).toBeUndefined();
    expect(csvNumber('12')).toBe(12);
    expect(csvNumber('1e3')).toBeNaN();
    expect([statusUp('UP'), statusUp('UP 1/3'), statusUp('OPEN'), statusUp('no check'), statusUp('DOWN 1/2'), statusUp('MAINT'), statusUp('???')]).toEqual([1, 1, 1, 1, 0, 0, undefined]);
  });
});

describe('metadata', () => {
  it('the README documents every metric (regenerate the table with renderMetricsTable())', () => {
    expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain(renderMetricsTable());
  });

  it('names every metric once, with a unit, rates per second', () => {
    const specs = Object.values(HAPROXY_METRICS);
    expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
    for (const s of specs) {
      expect(s.name).toMatch(/^haproxy\.[a-z_.]+$/);
      if (s.type === 'rate') expect(s.unit).toMatch(/\/s$/);
    }
  });

  it('ships a valid manifest with discovery rules for HAProxy images', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(parseManifest(pkg.sextant).ok).toBe(true);
    expect(pkg.sextant.discovery[0]).toMatchObject({ factory: 'haproxy', config: { url: 'http://{{host}}:{{port}}/stats' } });
    expect(pkg.sextant.discovery[0].images).toContain('haproxy');
  });
});
