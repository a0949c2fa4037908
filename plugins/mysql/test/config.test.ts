import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '@sextant/plugin-api';
import { resolveConfig, startCollector } from '@sextant/testkit';
import { classifyMysqlError, MYSQL_METRICS, MysqlCollector, mysqlCollectorFactory, redactUrl, renderMetricsTable, statusNumber, variablesOf } from '../src/index.js';

const problems = async (config: unknown) => {
  try {
    await resolveConfig(mysqlCollectorFactory, config);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('mysql config', () => {
  it('fills defaults and parses durations', async () => {
    const config = await resolveConfig(mysqlCollectorFactory, { url: 'mariadb://db:3307', timeout: '1.5s' });
    expect(config).toEqual({ url: 'mariadb://db:3307', timeout: 1500, resource: {} });
  });

  it('lists every problem with a fix', async () => {
    const message = await problems({ url: 'db.internal:3306', timeout: 'soon', bogus: 1 });
    expect(message).toContain('mysql.url');
    expect(message).toContain('did you mean "mysql://db.internal:3306"');
    expect(message).toContain('mysql.timeout: must be a duration such as "5s"');
    expect(message).toMatch(/bogus/);
    expect(await problems({ url: 'postgresql://db:5432' })).toContain('must use mysql:// (or mariadb://), not postgresql://');
  });

  it('never repeats a password given in the URL', async () => {
    expect(await problems({ url: 'user:s3cret@db:3306' })).not.toContain('s3cret');
    expect(redactUrl('mysql://u:s3cret@db:3306')).toBe('mysql://***@db:3306');
  });
});

describe('reading SHOW GLOBAL STATUS', () => {
  it('takes numeric strings, rejects the rest, and refuses a reply without Variable_name rows', () => {
    expect(statusNumber('18446744073709551615')).toBe(18446744073709551615);
    expect(statusNumber('ON')).toBeNaN();
    expect(statusNumber(undefined)).toBeUndefined();
    expect(variablesOf([{ Variable_name: 'Uptime', Value: '5' }])?.get('Uptime')).toBe('5');
    expect(variablesOf([{ name: 'x' }])).toBeUndefined();
    expect(variablesOf('garbage')).toBeUndefined();
  });

  it('counts malformed, negative and non-finite values and writes the rest', async () => {
    const h = await startCollector(mysqlCollectorFactory, { config: {} });
    const collector = h.collector as MysqlCollector;
    const status = new Map<string, unknown>([['Uptime', '100'], ['Threads_connected', 'lots'], ['Threads_running', '-3'], ['Threads_cached', '1e999'], ['Questions', '10']]);
    collector.processStatus(status, new Map([['max_connections', 'NaN']]), 1000);
    h.sink.flush();
    expect(h.sink.last('mysql.uptime')).toBe(100);
    expect(h.sink.of('mysql.threads')).toHaveLength(0);
    expect(h.metrics.counters['values_rejected_total']).toBe(4);
    // Uptime going back is a restart: an event, and no rate across it
    collector.processStatus(new Map([['Uptime', '101'], ['Questions', '20']]), new Map(), 11_000);
    collector.processStatus(new Map([['Uptime', '2'], ['Questions', '5']]), new Map(), 21_000);
    h.sink.flush();
    expect(h.sink.of('mysql.query.client.count').map((s) => s.value)).toEqual([1]);
    expect(h.sink.events.map((e) => e.type)).toEqual(['mysql.restart']);
    await h.shutdown();
  });
});

describe('error classification', () => {
  const at = { host: 'db', port: 3306 };
  it('names the fix for each error an operator meets', () => {
    expect(classifyMysqlError(Object.assign(new Error('Access denied'), { code: 'ER_ACCESS_DENIED_ERROR' }), at, 'sextant')).toMatchObject({ code: 'SEXTANT_ERR_AUTH_FAILED' });
    expect(classifyMysqlError(Object.assign(new Error('Too many connections'), { code: 'ER_CON_COUNT_ERROR' }), at, 'sextant').hint).toContain('max_connections');
    expect(classifyMysqlError(Object.assign(new Error('Host blocked'), { code: 'ER_HOST_IS_BLOCKED' }), at, 'sextant').hint).toContain('FLUSH HOSTS');
    expect(classifyMysqlError(Object.assign(new Error('need PROCESS'), { code: 'ER_SPECIFIC_ACCESS_DENIED_ERROR' }), at, 'sextant').hint).toContain('GRANT PROCESS');
    expect(classifyMysqlError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), at, 'sextant')).toMatchObject({ code: 'SEXTANT_ERR_CONNECTION_FAILED' });
  });
});

describe('metadata', () => {
  it('the README documents every metric (regenerate the table with renderMetricsTable())', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(renderMetricsTable());
  });

  it('names every metric once, with a unit, rates per second', () => {
    const specs = Object.values(MYSQL_METRICS);
    expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
    for (const s of specs) {
      expect(s.name).toMatch(/^mysql\.[a-z_.]+$/);
      if (s.type === 'rate') expect(s.unit).toMatch(/\/s$/);
    }
  });

  it('ships a valid manifest with discovery rules for MySQL and MariaDB images and port 3306', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(parseManifest(pkg.sextant).ok).toBe(true);
    expect(pkg.sextant.discovery[0]).toMatchObject({ factory: mysqlCollectorFactory.type, ports: [3306] });
    expect(pkg.sextant.discovery[0].images).toEqual(expect.arrayContaining(['mysql', 'mariadb']));
  });
});
