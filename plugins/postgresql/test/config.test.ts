import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '@sextant/plugin-api';
import { resolveConfig } from '@sextant/testkit';
import { classifyPostgresqlError, numberOf, postgresqlCollectorFactory, POSTGRESQL_METRICS, redactUrl, renderMetricsTable } from '../src/index.js';

const problems = async (config: unknown) => {
  try {
    await resolveConfig(postgresqlCollectorFactory, config);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('postgresql config', () => {
  it('fills defaults and parses durations', async () => {
    const config = await resolveConfig(postgresqlCollectorFactory, { url: 'postgres://db:6432/app', timeout: '1.5s' });
    expect(config).toEqual({ url: 'postgres://db:6432/app', databases: [], maxDatabases: 100, timeout: 1500, resource: {} });
  });

  it('lists every problem with a fix', async () => {
    const message = await problems({ url: 'db.internal:5432', timeout: 'soon', maxDatabases: 0, databases: [''], bogus: 1 });
    expect(message).toContain('postgresql.url');
    expect(message).toContain('did you mean "postgresql://db.internal:5432/postgres"');
    expect(message).toContain('postgresql.timeout: must be a duration such as "5s"');
    expect(message).toContain('postgresql.maxDatabases');
    expect(message).toContain('postgresql.databases');
    expect(message).toMatch(/bogus/);
    expect(await problems({ url: 'mysql://db:3306' })).toContain('must use postgresql:// (or postgres://), not mysql://');
    expect(await problems({ url: 'postgresql://db/app?sslmode=require' })).toContain('query parameters');
  });

  it('never repeats a password given in the URL', async () => {
    const message = await problems({ url: 'user:s3cret@db:5432' });
    expect(message).not.toContain('s3cret');
    expect(redactUrl('postgresql://u:s3cret@db:5432/x')).toBe('postgresql://***@db:5432/x');
  });
});

describe('reading statistics values', () => {
  it('takes numbers and numeric strings, NULL as absent, anything else as NaN', () => {
    expect(numberOf(42)).toBe(42);
    expect(numberOf('9007199254740993')).toBe(9007199254740992);
    expect(numberOf('1.5e3')).toBe(1500);
    expect(numberOf(null)).toBeUndefined();
    expect(numberOf('12abc')).toBeNaN();
    expect(numberOf('')).toBeNaN();
    expect(numberOf({})).toBeNaN();
    expect(numberOf(true)).toBeNaN();
  });
});

describe('error classification', () => {
  const at = { host: 'db', port: 5432, database: 'app' };
  it('names the fix for each SQLSTATE an operator meets', () => {
    expect(classifyPostgresqlError(Object.assign(new Error('password authentication failed'), { code: '28P01' }), at, 'sextant')).toMatchObject({ code: 'SEXTANT_ERR_AUTH_FAILED' });
    expect(classifyPostgresqlError(Object.assign(new Error('no pg_hba.conf entry'), { code: '28000' }), at, 'sextant').hint).toContain('pg_hba.conf');
    expect(classifyPostgresqlError(Object.assign(new Error('sorry, too many clients already'), { code: '53300' }), at, 'sextant').hint).toContain('max_connections');
    expect(classifyPostgresqlError(Object.assign(new Error('permission denied'), { code: '42501' }), at, 'sextant').hint).toBe('GRANT pg_monitor TO "sextant"');
    expect(classifyPostgresqlError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), at, 'sextant')).toMatchObject({ code: 'SEXTANT_ERR_CONNECTION_FAILED' });
    expect(classifyPostgresqlError(Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }), at, 'sextant').message).toContain('cannot resolve postgresql host "db"');
  });
});

describe('metadata', () => {
  it('the README documents every metric (regenerate the table with renderMetricsTable())', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(renderMetricsTable());
  });

  it('names every metric once, with a unit, rates per second', () => {
    const specs = Object.values(POSTGRESQL_METRICS);
    expect(new Set(specs.map((s) => `${s.name}`)).size).toBe(specs.length);
    for (const s of specs) {
      expect(s.name).toMatch(/^postgresql\.[a-z_.]+$/);
      if (s.type === 'rate') expect(s.unit).toMatch(/\/s$/);
    }
  });

  it('ships a valid manifest with discovery rules for the usual images and port 5432', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const result = parseManifest(pkg.sextant);
    expect(result.ok).toBe(true);
    expect(pkg.sextant.discovery[0]).toMatchObject({ factory: postgresqlCollectorFactory.type, ports: [5432] });
    expect(pkg.sextant.discovery[0].images).toContain('postgres');
  });
});
