/**
 * One connection to the group's Redis, from a `--store` URL:
 *
 *   redis://[user:password@]host:port[/db]      one Redis server
 *   rediss://...                                the same over TLS
 *   redis+cluster://[user:password@]h1:p1,h2:p2 a Redis Cluster, found from these seed nodes
 *   rediss+cluster://...                        the same over TLS
 *
 * Every command names its first key, so the same code runs against one server and against a
 * cluster (node-redis routes by the key's hash slot). Keys that a Lua script touches together
 * share a hash tag (see ClusterKeys), so a script never crosses slots.
 *
 * Commands fail at once while Redis is unreachable (no unbounded offline queue in node-redis):
 * the callers hold their own bounded buffers and retry.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, SextantError } from '@sextant/plugin-api';

export type RedisArg = string | Buffer;

export interface RedisLink {
  /** Sends a command; replies are strings (bulk strings decoded as UTF-8). */
  call<T = unknown>(firstKey: string | undefined, args: readonly RedisArg[]): Promise<T>;
  /** Sends a command; bulk strings come back as Buffers (binary sample payloads, snapshots). */
  callBuffers<T = unknown>(firstKey: string | undefined, args: readonly RedisArg[]): Promise<T>;
  readonly isReady: boolean;
  /** Redis without credentials, for logs and the API. */
  readonly description: string;
  close(): Promise<void>;
  /** Drops the connection without waiting (a member that must stop at once). */
  destroy(): void;
  /** A Redis Cluster: a command over several keys must keep them in one slot. */
  readonly cluster?: boolean;
  /**
   * A second connection to the same server (standalone Redis only), for blocking reads that must
   * not hold up the other commands. Closed by its own close()/destroy().
   */
  duplicate?(): Promise<RedisLink>;
}

export interface ParsedStoreUrl {
  readonly cluster: boolean;
  readonly tls: boolean;
  /** `host:port` of the server or of each seed node. */
  readonly nodes: readonly { host: string; port: number }[];
  readonly username?: string;
  readonly password?: string;
  readonly database?: number;
}

const SCHEMES = ['redis:', 'rediss:', 'redis+cluster:', 'rediss+cluster:'];

/** Parses a store URL; throws CONFIG_INVALID with the accepted forms. */
export function parseStoreUrl(url: string): ParsedStoreUrl {
  const bad = (why: string) =>
    new SextantError(ErrorCode.CONFIG_INVALID, `--store ${redactStoreUrl(url)}: ${why}`, {
      hint: 'use redis://[user:password@]host:port[/db], rediss://... (TLS) or redis+cluster://host1:port1,host2:port2 (Redis Cluster seed nodes)',
    });
  const m = /^([a-z+]+:)\/\/(?:([^@/]*)@)?([^/?#]+)(?:\/(\d*))?$/.exec(url);
  if (!m || !SCHEMES.includes(m[1])) throw bad('not a redis URL');
  const scheme = m[1];
  const cluster = scheme.includes('+cluster');
  let username: string | undefined;
  let password: string | undefined;
  if (m[2] !== undefined) {
    const [u, ...rest] = m[2].split(':');
    if (rest.length) {
      username = u ? decodeURIComponent(u) : undefined;
      password = decodeURIComponent(rest.join(':'));
    } else if (u) password = decodeURIComponent(u);
  }
  const nodes = m[3].split(',').map((hp) => {
    const hm = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hp.trim());
    if (!hm) throw bad(`"${hp}" is not host:port`);
    const port = hm[2] === undefined ? 6379 : Number(hm[2]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(`port of "${hp}" is out of range`);
    return { host: hm[1].replace(/^\[|\]$/g, ''), port };
  });
  if (!cluster && nodes.length > 1) throw bad('several hosts need redis+cluster://');
  const database = m[4] ? Number(m[4]) : undefined;
  if (cluster && database) throw bad('a Redis Cluster has only database 0');
  return { cluster, tls: scheme.startsWith('rediss'), nodes, ...(username ? { username } : {}), ...(password !== undefined ? { password } : {}), ...(database !== undefined ? { database } : {}) };
}

/** The URL with its password replaced by `***`. */
export function redactStoreUrl(url: string): string {
  return url.replace(/\/\/([^@/:]*):[^@/]*@/, '//$1:***@').replace(/\/\/([^@/:]+)@/, '//***@');
}

export interface ConnectOptions {
  /** Largest delay between reconnection attempts, ms (default 2000). */
  readonly maxRetryDelayMs?: number;
  readonly connectTimeoutMs?: number;
  /**
   * How long the first connection is retried before connectRedis gives up with CONNECTION_FAILED
   * (default 30 s). A refused password gives up at once. After the first connection, reconnection
   * never gives up.
   */
  readonly startTimeoutMs?: number;
  /** Called on every connection error (deduplicated by the caller if it wants). */
  readonly onError?: (error: unknown) => void;
  readonly onReady?: () => void;
}

const scriptShas = new Map<string, string>();

/**
 * `EVAL <script> ...` is sent as `EVALSHA <sha1> ...` (the script text once per connection, not
 * with every call: lease renewals alone are 64 scripts per heartbeat), falling back to EVAL when
 * the server does not know the script yet (NOSCRIPT: first use, or Redis restarted).
 */
function cachingScripts<T>(send: (args: RedisArg[]) => Promise<T>): (args: RedisArg[]) => Promise<T> {
  return (args) => {
    const script = args[1];
    if (args[0] !== 'EVAL' || typeof script !== 'string') return send(args);
    let sha = scriptShas.get(script);
    if (!sha) scriptShas.set(script, (sha = createHash('sha1').update(script).digest('hex')));
    return send(['EVALSHA', sha, ...args.slice(2)]).catch((e: unknown) => {
      if (!/NOSCRIPT/.test(e instanceof Error ? e.message : String(e))) throw e;
      return send(args);
    });
  };
}

/**
 * Connects (node-redis is imported here, so distributions without a cluster do not load it).
 * Rejects with a coded error when the first connection fails, so `sextant server` can say why
 * (wrong password, nothing listening) instead of waiting forever.
 */
export async function connectRedis(url: string, options: ConnectOptions = {}): Promise<RedisLink> {
  const parsed = parseStoreUrl(url);
  const { createClient, createCluster, RESP_TYPES } = await import('redis');
  const maxDelay = options.maxRetryDelayMs ?? 2000;
  const started = Date.now();
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  let connected = false;
  let fatal: unknown;
  const socket = {
    connectTimeout: options.connectTimeoutMs ?? 5000,
    reconnectStrategy: (retries: number, cause: Error) => {
      if (!connected && (fatal || Date.now() - started > startTimeoutMs)) return fatal instanceof Error ? fatal : cause;
      return Math.min(50 * 2 ** Math.min(retries, 6), maxDelay);
    },
    ...(parsed.tls ? { tls: true as const } : {}),
  };
  const auth = { ...(parsed.username ? { username: parsed.username } : {}), ...(parsed.password !== undefined ? { password: parsed.password } : {}) };
  const description = redactStoreUrl(url);
  let firstError: unknown;
  const onError = (e: unknown) => {
    firstError ??= e;
    if (!connected && /WRONGPASS|NOAUTH|NOPERM|invalid username-password/i.test(e instanceof Error ? e.message : String(e))) fatal ??= e;
    options.onError?.(e);
  };
  if (!parsed.cluster) {
    const client = createClient({
      socket: { host: parsed.nodes[0].host, port: parsed.nodes[0].port, ...socket },
      ...auth,
      ...(parsed.database !== undefined ? { database: parsed.database } : {}),
      disableOfflineQueue: true,
    });
    client.on('error', onError);
    if (options.onReady) client.on('ready', options.onReady);
    try {
      await client.connect();
      connected = true;
    } catch (e) {
      client.destroy();
      throw connectError(description, fatal ?? e ?? firstError);
    }
    const linkOf = (c: typeof client): RedisLink => {
      const buffers = c.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
      const call = cachingScripts((args) => c.sendCommand(args));
      const callBuffers = cachingScripts((args) => buffers.sendCommand(args));
      return {
        call: (_k, args) => call(args as RedisArg[]) as Promise<never>,
        callBuffers: (_k, args) => callBuffers(args as RedisArg[]) as Promise<never>,
        get isReady() {
          return c.isReady;
        },
        description,
        close: async () => {
          try {
            await c.close();
          } catch {
            c.destroy();
          }
        },
        destroy: () => c.destroy(),
        duplicate: async () => {
          const d = client.duplicate();
          d.on('error', (e: unknown) => options.onError?.(e));
          await d.connect();
          return linkOf(d);
        },
      };
    };
    return linkOf(client);
  }
  const cluster = createCluster({
    rootNodes: parsed.nodes.map((n) => ({ socket: { host: n.host, port: n.port, ...socket } })),
    defaults: { ...auth, socket, disableOfflineQueue: true },
  });
  cluster.on('error', onError);
  try {
    await cluster.connect();
    connected = true;
  } catch (e) {
    cluster.destroy();
    throw connectError(description, fatal ?? e ?? firstError);
  }
  const buffers = cluster.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  return {
    call: (k, args) => cachingScripts((a) => cluster.sendCommand(k, false, a))(args as RedisArg[]) as Promise<never>,
    callBuffers: (k, args) => cachingScripts((a) => buffers.sendCommand(k, false, a))(args as RedisArg[]) as Promise<never>,
    get isReady() {
      return cluster.isOpen;
    },
    description,
    close: async () => {
      try {
        await cluster.close();
      } catch {
        cluster.destroy();
      }
    },
    destroy: () => cluster.destroy(),
    cluster: true,
  };
}

function connectError(description: string, e: unknown): SextantError {
  const msg = e instanceof Error ? e.message : String(e);
  const auth = /WRONGPASS|NOAUTH|invalid username-password|AUTH/i.test(msg);
  return new SextantError(ErrorCode.CONNECTION_FAILED, `cannot connect to the cluster store ${description}: ${msg}`, {
    hint: auth ? 'check the user and password in the --store URL (redis://user:password@host:port)' : 'check that Redis runs and listens on that address; members retry once connected, but the first connection must succeed',
  });
}
