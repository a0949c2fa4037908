import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '@sextant/plugin-api';
import { resolveConfig, startCollector } from '@sextant/testkit';
import plugin from '../src/plugin.js';
import { reconnectDelayMs, redisCollectorFactory } from '../src/index.js';

const problems = async (config: unknown) => {
  try {
    await resolveConfig(redisCollectorFactory, config);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('redis config', () => {
  it('fills defaults and parses durations', async () => {
    const config = await resolveConfig(redisCollectorFactory, { url: 'redis://cache:6380', timeout: '1.5s' });
    expect(config).toEqual({
      url: 'redis://cache:6380',
      tls: { rejectUnauthorized: true },
      timeout: 1500,
      slowlog: { enabled: true, maxEntries: 128 },
      latency: { enabled: true },
      resource: {},
    });
    expect((await resolveConfig(redisCollectorFactory, { timeout: 250 })).timeout).toBe(250);
  });

  it('lists every problem with a fix', async () => {
    const message = await problems({ url: 'localhost:6379', timeout: 'soon', slowlog: { maxEntries: 0 }, bogus: 1 });
    expect(message).toContain('redis.url');
    expect(message).toContain('did you mean "redis://localhost:6379"');
    expect(message).toContain('redis.timeout: must be a duration such as "5s"');
    expect(message).toContain('redis.slowlog.maxEntries');
    expect(message).toMatch(/bogus/);
    expect(await problems({ url: 'http://cache:6379' })).toContain('must use redis:// (plain) or rediss:// (TLS), not http://');
    expect(await problems({ url: 'redis://cache', tls: { ca: '/etc/ca.pem' } })).toContain('use rediss:// to connect with TLS');
    expect(await problems({ url: 'rediss://cache', tls: { cert: '/c.pem' } })).toContain('tls.cert and tls.key go together');
  });

  it('does not echo a password from a bad URL', async () => {
    const message = await problems({ url: 'redis:/:hunter2@cache' });
    expect(message).not.toContain('hunter2');
  });

  it('refuses an unreadable TLS file at create with the key named', async () => {
    await expect(startCollector(redisCollectorFactory, { config: { url: 'rediss://cache:6380', tls: { ca: '/nonexistent/ca.pem' } } })).rejects.toThrow(/tls\.ca: cannot read "\/nonexistent\/ca\.pem" \(ENOENT\)/);
  });

  it('publishes a JSON Schema of the config for out-of-process plugins', () => {
    const schema = redisCollectorFactory.configJsonSchema as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(Object.keys(schema.properties).sort()).toEqual(['latency', 'password', 'resource', 'slowlog', 'timeout', 'tls', 'url', 'username']);
    expect(schema.additionalProperties).toBe(false);
  });

  it('backs off exponentially up to the collection interval', () => {
    expect([0, 1, 2, 3, 10].map((r) => reconnectDelayMs(r, 10_000))).toEqual([100, 200, 400, 800, 10_000]);
    expect(reconnectDelayMs(50, 120_000)).toBe(30_000);
  });
});

describe('redis plugin package', () => {
  it('has a valid manifest with discovery for the usual images and port 6379', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const result = parseManifest(pkg.sextant);
    expect(result.ok).toBe(true);
    expect(pkg.sextant.discovery).toEqual([
      { factory: 'redis', images: ['redis', '**/redis', 'bitnami/redis', 'redis/redis-stack*'], ports: [6379], config: { url: 'redis://{{host}}:{{port}}' } },
    ]);
    expect(pkg.sextant.stability).toBe(redisCollectorFactory.stability);
  });

  it('registers the redis collector factory', async () => {
    const added: string[] = [];
    expect(plugin.pluginId).toBe('redis');
    await plugin.register({ collectors: { addFactory: (f: { type: string }) => added.push(f.type) } });
    expect(added).toEqual(['redis']);
  });
});
