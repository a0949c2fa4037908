/**
 * The handshake and its failures, with real child processes: every failure is a
 * SEXTANT_ERR_HANDSHAKE_FAILED that names the plugin and says what to do, and leaves nothing behind.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metadata, credentials, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { ErrorCode } from '@sextant/plugin-api';
import { RecordingLogger } from '@sextant/testkit';
import { bearerTokenClientInterceptor } from '../src/bearer-token.js';
import { HealthClient } from '../src/gen/grpc/health/v1/health.js';
import { PluginClient } from '../src/gen/sextant/plugin/v1/plugin.js';
import { formatHandshakeLine, negotiateProtocol, parseHandshakeLine, parseProtocolList } from '../src/handshake.js';
import { launchPluginProcess, type RemotePlugin } from '../src/launch.js';
import { defaultChildEntry } from '../src/plugin-process.js';
import { fixture } from './plugin-child.helpers.js';

// This file's launches get their own temp folder (os.tmpdir() follows TMPDIR), so socket folders of
// plugin children started by tests running in parallel cannot be mistaken for leftovers.
process.env.TMPDIR = mkdtempSync(join(tmpdir(), 'sextant-handshake-test-'));
const socketDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith('sextant-plugin-')).sort();

describe('handshake line', () => {
  it('round-trips and negotiates the highest common protocol', () => {
    expect(parseHandshakeLine(formatHandshakeLine(1, '/tmp/x/plugin.sock'), 'p', [1], '/tmp/x')).toEqual({ protocol: 1, network: 'unix', address: '/tmp/x/plugin.sock' });
    expect(negotiateProtocol([1, 2, 3], [2, 3, 4])).toBe(3);
    expect(negotiateProtocol([1], [2])).toBeUndefined();
    expect(parseProtocolList(' 1, 2,x,-3,0')).toEqual([1, 2]);
  });

  it.each([
    ['hello', /first stdout line was "hello"/],
    ['SEXTANT_PLUGIN|2|1|unix|/tmp/x/p.sock', /handshake format "2"/],
    ['SEXTANT_PLUGIN|1|1|tcp|127.0.0.1:1', /network "tcp"/],
    ['SEXTANT_PLUGIN|1|1|unix|/elsewhere/p.sock', /not inside the private directory/],
  ])('refuses %j', (line, message) => {
    expect(() => parseHandshakeLine(line, 'acme', [1], '/tmp/x')).toThrowError(message);
    try {
      parseHandshakeLine(line, 'acme', [1], '/tmp/x');
    } catch (error) {
      expect(error).toMatchObject({ code: ErrorCode.HANDSHAKE_FAILED, message: expect.stringContaining('plugin "acme"'), hint: expect.any(String) });
    }
  });
});

describe('handshake failures of real children', () => {
  const before = socketDirs();

  it.each([
    ['prints a wrong first line', 'wrong-handshake.mjs', 10_000, /first stdout line was "listening on 127\.0\.0\.1:9000"/, /stdout/],
    ['speaks protocol 99', 'protocol-99.mjs', 10_000, /speaks plugin protocol "99" but this host speaks 1/, /upgrade the agent|rebuild the plugin/],
    ['never answers', 'never-answers.mjs', 1500, /no handshake line within 1500 ms/, /hangs while loading/],
    ['exports no plugin', 'not-a-plugin.mjs', 10_000, /exited \(code 1\) before the handshake.*SEXTANT_ERR_PLUGIN_INVALID/, /createPlugin/],
  ])('a child that %s fails with a coded error naming the plugin', async (_what, file, handshakeTimeoutMs, message, hint) => {
    const error = await launchPluginProcess({ pluginModule: fixture(file), displayName: `bad-${file}`, logger: new RecordingLogger(), handshakeTimeoutMs }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: ErrorCode.HANDSHAKE_FAILED, message: expect.stringContaining(`plugin "bad-${file}" failed the handshake`) });
    expect((error as Error).message).toMatch(message);
    expect((error as { hint: string }).hint).toMatch(hint);
    expect(String(error)).toMatch(/^SEXTANT_ERR_HANDSHAKE_FAILED: /);
  });

  it('a host that offers only protocol 7 is refused by the child itself', async () => {
    const error = await launchPluginProcess({ pluginModule: fixture('example-plugin.mjs'), displayName: 'example', logger: new RecordingLogger(), protocols: [7] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.HANDSHAKE_FAILED });
    expect((error as Error).message).toMatch(/host speaks plugin protocol 7 but this plugin process speaks 1/);
  });

  it('leaves no socket directory behind after failures', () => {
    expect(socketDirs().filter((d) => !before.includes(d))).toEqual([]);
  });

  it('run by hand (no magic cookie), the child explains itself and exits 1', () => {
    const env = { ...process.env };
    delete env.SEXTANT_PLUGIN_MAGIC;
    const result = spawnSync(process.execPath, [defaultChildEntry(), fixture('example-plugin.mjs')], { env, encoding: 'utf8', timeout: 10_000 });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/This program is a Sextant plugin.*started by the Sextant agent/s);
  });
});

describe('the per-launch token', () => {
  let remote: RemotePlugin;
  beforeAll(async () => {
    remote = await launchPluginProcess({ pluginModule: fixture('example-plugin.mjs'), displayName: 'example', logger: new RecordingLogger() });
  });
  afterAll(async () => {
    await remote?.shutdown();
  });

  const describeWith = (client: PluginClient) =>
    new Promise<ServiceError | undefined>((resolve) => client.describe({}, new Metadata(), { deadline: Date.now() + 5000 }, (error) => resolve(error ?? undefined)));

  it('refuses a connection without the token, or with a wrong one, as UNAUTHENTICATED', async () => {
    const address = `unix:${remote.status().socketPath}`;
    const bare = new PluginClient(address, credentials.createInsecure());
    const wrong = new PluginClient(address, credentials.createInsecure(), { interceptors: [bearerTokenClientInterceptor('x'.repeat(43))] });
    const health = new HealthClient(address, credentials.createInsecure());
    try {
      expect(await describeWith(bare)).toMatchObject({ code: grpcStatus.UNAUTHENTICATED });
      expect(await describeWith(wrong)).toMatchObject({ code: grpcStatus.UNAUTHENTICATED, details: expect.stringContaining('plugin token') });
      const healthError = await new Promise<ServiceError | null>((resolve) => health.check({ service: '' }, (error) => resolve(error)));
      expect(healthError).toMatchObject({ code: grpcStatus.UNAUTHENTICATED });
    } finally {
      bare.close();
      wrong.close();
      health.close();
    }
    // The host's own connection still works.
    expect(remote.status().state).toBe('running');
  });

  it('keeps its socket in a directory only the owner can enter', async () => {
    const { statSync } = await import('node:fs');
    const { dirname } = await import('node:path');
    expect(statSync(dirname(remote.status().socketPath!)).mode & 0o777).toBe(0o700);
  });
});
