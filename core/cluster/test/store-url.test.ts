import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import { findBinary, freePort, needBinary } from '@sextant/testkit';
import { connectRedis, parseStoreUrl, redactStoreUrl } from '../src/index.js';
import { startTestRedis, type TestRedis } from './redis-process.js';

describe('--store URLs', () => {
  it('reads single servers, TLS, ACL users and Redis Cluster seed lists', () => {
    expect(parseStoreUrl('redis://127.0.0.1:6380/2')).toEqual({ cluster: false, tls: false, nodes: [{ host: '127.0.0.1', port: 6380 }], database: 2 });
    expect(parseStoreUrl('rediss://ops:s%40cret@redis.internal')).toMatchObject({ tls: true, username: 'ops', password: 's@cret', nodes: [{ host: 'redis.internal', port: 6379 }] });
    expect(parseStoreUrl('redis+cluster://:pw@h1:7000,h2:7001,[::1]:7002')).toMatchObject({ cluster: true, password: 'pw', nodes: [{ host: 'h1', port: 7000 }, { host: 'h2', port: 7001 }, { host: '::1', port: 7002 }] });
    expect(redactStoreUrl('redis://ops:secret@h:1')).toBe('redis://ops:***@h:1');
  });

  it('refuses what is not a store URL with a coded error that shows the accepted forms', () => {
    for (const bad of ['http://h:1', 'redis://h1:1,h2:2', 'redis://h:99999', 'redis+cluster://h:1/3', 'localhost:6379']) {
      let error: unknown;
      try {
        parseStoreUrl(bad);
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(SextantError);
      expect((error as SextantError).code).toBe(ErrorCode.CONFIG_INVALID);
      expect((error as SextantError).hint).toMatch(/redis\+cluster:\/\//);
    }
  });
});

describe('connecting to the store (real redis-server)', () => {
  let redis: TestRedis | undefined;
  beforeAll(async () => {
    if (findBinary('redis-server')) redis = await startTestRedis(['--requirepass', 'right-password']);
  });
  afterAll(async () => redis?.stop());

  it('gives up on an address where nothing listens after the start timeout, with CONNECTION_FAILED', async (ctx) => {
    needBinary(ctx, 'redis-server', 'apt-get install redis-server');
    const port = await freePort();
    await expect(connectRedis(`redis://127.0.0.1:${port}`, { startTimeoutMs: 500 })).rejects.toMatchObject({ code: ErrorCode.CONNECTION_FAILED });
  });

  it('says the password is wrong (and does not print it), and connects with the right one', async (ctx) => {
    needBinary(ctx, 'redis-server', 'apt-get install redis-server');
    const error = await connectRedis(`redis://default:not-it@127.0.0.1:${redis!.port}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SextantError);
    expect((error as SextantError).code).toBe(ErrorCode.CONNECTION_FAILED);
    expect((error as SextantError).hint).toMatch(/user and password/);
    expect((error as SextantError).message).not.toContain('not-it');
    const link = await connectRedis(`redis://default:right-password@127.0.0.1:${redis!.port}`);
    expect(await link.call(undefined, ['PING'])).toBe('PONG');
    await link.close();
  });
});
