/**
 * The resumable event stream against a stand-in engine: a unix-socket HTTP server that follows the
 * Docker Engine API contract for `/version` and `/events` (newline-delimited JSON, `since`
 * inclusive, `filters` honoured). The swarm plugin's tests cover the same against the real dockerd.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '@sextant/plugin-api';
import { systemClock } from '@sextant/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineClient, ResumableEventStream, engineSocketError, isNotSwarmManager, parseEndpoint, sinceParameter, type EngineEvent, type EventStreamPosition } from '../src/index.js';

interface StandIn {
  readonly socket: string;
  readonly server: Server;
  /** Appends an event to the engine's log and sends it to every open stream. */
  emit(action: string, name: string, timeNano?: bigint): void;
  /** Ends every open stream (the engine dropped the connection). */
  dropStreams(): void;
  /** Writes a raw line into every open stream (not logged for replay). */
  raw(line: string): void;
  readonly sinces: (string | null)[];
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function standIn(): Promise<StandIn> {
  const dir = mkdtempSync(join(tmpdir(), 'sextant-engine-'));
  const socket = join(dir, 'docker.sock');
  const log: { line: string; t: bigint; type: string }[] = [];
  const streams = new Set<{ res: ServerResponse; types: string[] }>();
  const sinces: (string | null)[] = [];
  let clock = 1_800_000_000_000_000_000n;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://engine');
    if (url.pathname === '/version') {
      res.end(JSON.stringify({ ApiVersion: '1.41', Version: '20.10.24' }));
      return;
    }
    if (url.pathname.endsWith('/info')) {
      res.statusCode = 503;
      res.end(JSON.stringify({ message: 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.' }));
      return;
    }
    if (url.pathname.endsWith('/events')) {
      const types = (JSON.parse(url.searchParams.get('filters') ?? '{}') as { type?: string[] }).type ?? [];
      const since = url.searchParams.get('since');
      sinces.push(since);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      if (since !== null) {
        const [s, ns = '0'] = since.split('.');
        const from = BigInt(s) * 1_000_000_000n + BigInt(ns.padEnd(9, '0'));
        for (const e of log) if (e.t >= from && types.includes(e.type)) res.write(`${e.line}\n`);
      }
      const entry = { res, types };
      streams.add(entry);
      res.on('close', () => streams.delete(entry));
      return;
    }
    res.statusCode = 404;
    res.end('{"message":"page not found"}');
  });
  await new Promise<void>((r) => server.listen(socket, r));
  const s: StandIn = {
    socket,
    server,
    sinces,
    emit(action, name, timeNano) {
      const t = timeNano ?? (clock += 1_000_000n);
      const line = JSON.stringify({ Type: 'service', Action: action, Actor: { ID: `id-${name}`, Attributes: { name } }, scope: 'swarm', time: Number(t / 1_000_000_000n), timeNano: Number(t) });
      log.push({ line, t, type: 'service' });
      for (const st of streams) if (st.types.includes('service')) st.res.write(`${line}\n`);
    },
    raw(line) {
      for (const st of streams) st.res.write(`${line}\n`);
    },
    dropStreams() {
      for (const st of streams) st.res.destroy();
      streams.clear();
    },
  };
  cleanups.push(async () => {
    s.dropStreams();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });
  return s;
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function follow(engine: StandIn) {
  const client = new EngineClient(engine.socket);
  await client.connect();
  const got: EngineEvent[] = [];
  const states: string[] = [];
  const stream = new ResumableEventStream({ client, filters: { type: ['service'] }, clock: systemClock, onEvent: (e) => got.push(e), onState: (st) => states.push(st.kind), maxBackoffMs: 50 });
  await stream.start();
  cleanups.push(() => stream.stop());
  return { stream, got, states, names: () => got.map((e) => e.Actor?.Attributes?.name) };
}

describe('ResumableEventStream', () => {
  it('delivers the events of a gap exactly once, in order, after the engine drops the stream', async () => {
    const engine = await standIn();
    const f = await follow(engine);
    engine.emit('create', 'a');
    engine.emit('update', 'a');
    await until(() => f.got.length === 2, 'two live events');
    engine.dropStreams();
    // While disconnected: three events, two sharing one nanosecond with the last delivered one.
    const last = BigInt(f.got[1].timeNano!);
    engine.emit('update', 'b', last);
    engine.emit('remove', 'c');
    engine.emit('create', 'd');
    await until(() => f.got.length === 5, 'catch-up after reconnect');
    engine.emit('update', 'e');
    await until(() => f.got.length === 6, 'live again');
    expect(f.names()).toEqual(['a', 'a', 'b', 'c', 'd', 'e']);
    expect(f.got.map((e) => e.Action)).toEqual(['create', 'update', 'update', 'remove', 'create', 'update']);
    expect(f.stream.duplicatesDropped).toBeGreaterThanOrEqual(1);
    expect(f.stream.reconnects).toBe(1);
    expect(engine.sinces).toHaveLength(2);
    expect(engine.sinces[1]! > engine.sinces[0]!).toBe(true);
    expect(f.states).toEqual(['open', 'reconnecting', 'open']);
  });

  it('starts at the moment it starts: later events even before the first one arrives, none from before', async () => {
    const engine = await standIn();
    engine.emit('create', 'old', BigInt(Date.now() - 5_000) * 1_000_000n);
    const f = await follow(engine);
    engine.dropStreams();
    engine.emit('create', 'x', BigInt(Date.now()) * 1_000_000n);
    await until(() => f.got.length === 1, 'event made while disconnected');
    await new Promise((r) => setTimeout(r, 50));
    expect(f.names()).toEqual(['x']);
    expect(engine.sinces.every((since) => since !== null && /^\d+\.\d{9}$/.test(since))).toBe(true);
  });

  it('resumes where a previous run stopped (saved position), without repeating its last events', async () => {
    const engine = await standIn();
    const first = await follow(engine);
    engine.emit('create', 'a');
    engine.emit('update', 'a');
    await until(() => first.got.length === 2, 'first run saw two events');
    const saved = JSON.parse(JSON.stringify(first.stream.position)) as EventStreamPosition;
    await first.stream.stop();
    engine.emit('remove', 'a');
    engine.emit('create', 'b');
    const client = new EngineClient(engine.socket);
    await client.connect();
    const got: EngineEvent[] = [];
    const second = new ResumableEventStream({ client, filters: { type: ['service'] }, clock: systemClock, onEvent: (e) => got.push(e), resumeFrom: saved });
    cleanups.push(() => second.stop());
    await second.start();
    await until(() => got.length === 2, 'events made while the agent was down');
    await new Promise((r) => setTimeout(r, 50));
    expect(got.map((e) => `${e.Action}:${e.Actor?.Attributes?.name}`)).toEqual(['remove:a', 'create:b']);
    expect(second.duplicatesDropped).toBe(1);
  });

  it('backs off and reports the coded error while the socket is gone, then recovers', async () => {
    const engine = await standIn();
    const client = new EngineClient(engine.socket);
    await client.connect();
    const errors: string[] = [];
    const got: EngineEvent[] = [];
    const stream = new ResumableEventStream({
      client: new EngineClient(join(tmpdir(), 'sextant-no-such-engine.sock')),
      filters: { type: ['service'] },
      clock: systemClock,
      onEvent: (e) => got.push(e),
      onState: (st) => void (st.kind === 'reconnecting' && errors.push(st.error.code)),
      maxBackoffMs: 20,
    });
    await stream.start();
    await until(() => errors.length >= 3, 'three failed attempts');
    await stream.stop();
    expect(new Set(errors)).toEqual(new Set([ErrorCode.CONNECTION_FAILED]));
    expect(got).toEqual([]);
  });

  it('counts malformed lines and keeps reading', async () => {
    const engine = await standIn();
    const client = new EngineClient(engine.socket);
    await client.connect();
    const malformed: string[] = [];
    const got: EngineEvent[] = [];
    const stream = new ResumableEventStream({ client, filters: { type: ['service'] }, clock: systemClock, onEvent: (e) => got.push(e), onMalformed: (l) => malformed.push(l) });
    cleanups.push(() => stream.stop());
    await stream.start();
    engine.raw('{"Type":"service","Action":');
    engine.raw('42');
    engine.emit('create', 'ok');
    await until(() => got.length === 1, 'valid event');
    expect(malformed).toEqual(['{"Type":"service","Action":', '42']);
    expect(got[0].Actor?.Attributes?.name).toBe('ok');
  });
});

describe('EngineClient', () => {
  it('maps the engine saying it is no swarm manager to a recognisable coded error', async () => {
    const engine = await standIn();
    const client = new EngineClient(`unix://${engine.socket}`);
    await client.connect();
    const error = await client.info().catch((e: unknown) => e);
    expect(isNotSwarmManager(error)).toBe(true);
    expect(String((error as Error).message)).toContain('not a swarm manager');
  });

  it('parses endpoints and names the fix for socket errors', () => {
    expect(parseEndpoint('unix:///run/docker.sock')).toEqual({ socketPath: '/run/docker.sock' });
    expect(parseEndpoint('tcp://127.0.0.1:2376')).toEqual({ host: '127.0.0.1', port: 2376 });
    expect(sinceParameter(1_796_302_112_000_000_007n)).toBe('1796302112.000000007');
    const denied = engineSocketError('/run/docker.sock', Object.assign(new Error('EACCES'), { code: 'EACCES' }));
    expect(denied.code).toBe(ErrorCode.AUTH_FAILED);
    expect(denied.hint).toMatch(/docker/);
  });
});
