import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '@sextant/plugin-api';
import { resolveConfig, startCollector } from '@sextant/testkit';
import { MQTT_METRICS, MqttCollector, mqttCollectorFactory, renderMetricsTable, sysValue } from '../src/index.js';

const problems = async (config: unknown) => {
  try {
    await resolveConfig(mqttCollectorFactory, config);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('mqtt config', () => {
  it('fills defaults and parses durations', async () => {
    expect(await resolveConfig(mqttCollectorFactory, { url: 'mqtts://broker:8883', timeout: '1s' })).toEqual({ url: 'mqtts://broker:8883', rejectUnauthorized: true, timeout: 1000, resource: {} });
  });

  it('lists every problem with a fix', async () => {
    expect(await problems({ url: 'broker:1883' })).toContain('did you mean "mqtt://broker:1883"');
    expect(await problems({ url: 'mqtt://u:p@broker' })).toContain('put credentials in username/password');
    expect(await problems({ url: 'http://broker', timeout: 'x', bogus: 1 })).toMatch(/mqtt:\/\/ or mqtts:\/\/[\s\S]*timeout[\s\S]*bogus/);
  });
});

describe('$SYS values', () => {
  it('reads numbers and "N seconds", and counts the rest without writing them', async () => {
    expect(sysValue('42')).toBe(42);
    expect(sysValue('1.97')).toBe(1.97);
    expect(sysValue('6 seconds')).toBe(6);
    expect(sysValue('mosquitto version 2.0.11')).toBeNaN();
    const h = await startCollector(mqttCollectorFactory, { config: { url: 'mqtt://127.0.0.1:1' } });
    const collector = h.collector as MqttCollector;
    collector.processSys(new Map([['clients/connected', '3'], ['subscriptions/count', 'many'], ['heap/current', '-5']]), 1000);
    h.sink.flush();
    expect(h.sink.last('mqtt.broker.clients.connected')).toBe(3);
    expect(h.sink.of('mqtt.broker.subscriptions')).toHaveLength(0);
    expect(h.metrics.counters['values_rejected_total']).toBe(2);
    await h.shutdown();
  });
});

describe('metadata', () => {
  it('the README documents every metric (regenerate the table with renderMetricsTable())', () => {
    expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain(renderMetricsTable());
  });

  it('names every metric once, with a unit, rates per second', () => {
    const specs = Object.values(MQTT_METRICS);
    expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
    for (const s of specs) {
      expect(s.name).toMatch(/^mqtt\.broker\.[a-z_.]+$/);
      if (s.type === 'rate') expect(s.unit).toMatch(/\/s$/);
    }
  });

  it('ships a valid manifest with discovery rules for Mosquitto images and port 1883', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(parseManifest(pkg.sextant).ok).toBe(true);
    expect(pkg.sextant.discovery[0]).toMatchObject({ factory: 'mqtt', ports: [1883], config: { url: 'mqtt://{{host}}:{{port}}' } });
  });
});
