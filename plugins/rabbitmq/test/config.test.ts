import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '@sextant/plugin-api';
import { resolveConfig } from '@sextant/testkit';
import { RABBITMQ_METRICS, rabbitmqCollectorFactory, renderMetricsTable } from '../src/index.js';

const problems = async (config: unknown) => {
  try {
    await resolveConfig(rabbitmqCollectorFactory, config);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('rabbitmq config', () => {
  it('fills defaults and parses durations', async () => {
    expect(await resolveConfig(rabbitmqCollectorFactory, { url: 'http://mq:15672', username: 'sextant', password: 'pw', timeout: '2s' })).toEqual({
      url: 'http://mq:15672', username: 'sextant', password: 'pw', maxQueues: 200, timeout: 2000, rejectUnauthorized: true, resource: {},
    });
  });

  it('lists every problem with a fix', async () => {
    expect(await problems({ url: 'amqp://mq:5672' })).toContain('did you mean "http://mq:15672"');
    expect(await problems({ url: 'mq:15672' })).toContain('did you mean "http://mq:15672"');
    expect(await problems({ url: 'http://u:p@mq:15672' })).toContain('put credentials in username/password');
    expect(await problems({ url: 'ftp://mq', maxQueues: -1, bogus: 1 })).toMatch(/http:\/\/ or https:\/\/[\s\S]*maxQueues[\s\S]*bogus/);
  });
});

describe('metadata', () => {
  it('the README documents every metric (regenerate the table with renderMetricsTable())', () => {
    expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain(renderMetricsTable());
  });

  it('names every metric once, with a unit, rates per second', () => {
    const specs = Object.values(RABBITMQ_METRICS);
    expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
    for (const s of specs) {
      expect(s.name).toMatch(/^rabbitmq\.[a-z_.]+$/);
      if (s.type === 'rate') expect(s.unit).toMatch(/\/s$/);
    }
  });

  it('ships a valid manifest with discovery rules for RabbitMQ images and the management port', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(parseManifest(pkg.sextant).ok).toBe(true);
    expect(pkg.sextant.discovery[0]).toMatchObject({ factory: 'rabbitmq', ports: [15672], config: { url: 'http://{{host}}:{{port}}' } });
  });
});
