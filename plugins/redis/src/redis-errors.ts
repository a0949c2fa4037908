/**
 * Turns what node-redis and Node's sockets throw into a coded error that tells the fix. These are
 * what `sextant plugins status` shows for a redis instance, so each hint names the config key or
 * the server setting to change. Messages never contain the password or the URL.
 */
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import type { RedisEndpoint } from './config.js';

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);
const TLS_CODE_HINTS = ['CERT', 'TLS', 'SSL', 'EPROTO', 'SELF_SIGNED', 'UNABLE_TO_', 'ERR_OSSL', 'HOSTNAME_MISMATCH'];

function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  // follow `cause` and AggregateError members (Node 20 happy-eyeballs wraps ECONNREFUSED)
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    const members = (current as { errors?: unknown }).errors;
    if (Array.isArray(members)) for (const m of members) if (m && typeof (m as { code?: unknown }).code === 'string') codes.push((m as { code: string }).code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

export function classifyRedisError(error: unknown, endpoint: RedisEndpoint): SextantError {
  const where = `${endpoint.host}:${endpoint.port}`;
  const message = messageOf(error);
  const upper = message.toUpperCase();
  const codes = codesOf(error);
  const name = error instanceof Error ? error.constructor.name : '';

  if (upper.startsWith('WRONGPASS') || upper.startsWith('NOAUTH') || upper.includes('INVALID USERNAME-PASSWORD') || upper.includes('INVALID PASSWORD') || (upper.startsWith('ERR') && upper.includes('AUTH'))) {
    return new SextantError(ErrorCode.AUTH_FAILED, `redis at ${where} refused the credentials (${message})`, {
      hint: 'check password/username: set collectors.redis.password (and username for an ACL user) to what requirepass or the ACL user expects',
      cause: error,
    });
  }
  if (upper.startsWith('NOPERM')) {
    return new SextantError(ErrorCode.AUTH_FAILED, `redis at ${where}: the user may not run a command the collector needs (${message})`, {
      hint: 'grant the ACL user the monitoring commands, e.g. ACL SETUSER <user> +info +ping +slowlog|get +slowlog|len +latency|latest +client|setname',
      cause: error,
    });
  }
  if (codes.some((c) => /CERTIFICATE_REQUIRED|ALERT_BAD_CERTIFICATE|ALERT_UNKNOWN_CA|ALERT_CERTIFICATE_UNKNOWN/.test(c))) {
    return new SextantError(ErrorCode.CONNECTION_FAILED, `TLS handshake with redis at ${where} failed (${codes.find((c) => c.includes('ALERT') || c.includes('CERTIFICATE'))})`, {
      hint: 'the server wants a client certificate it trusts (tls-auth-clients): set tls.cert and tls.key to a certificate signed by its tls-ca-cert-file',
      cause: error,
    });
  }
  if (codes.some((c) => TLS_CODE_HINTS.some((t) => c.includes(t))) || /\b(TLS|SSL|certificate)\b/i.test(message)) {
    return new SextantError(ErrorCode.CONNECTION_FAILED, `TLS handshake with redis at ${where} failed (${codes[0] ?? message})`, {
      hint: endpoint.tls
        ? 'check that the server has TLS on this port (tls-port), that tls.ca trusts its certificate and the host name matches; tls.rejectUnauthorized: false only for testing'
        : 'the server expects TLS: use a rediss:// URL',
      cause: error,
    });
  }
  if (endpoint.tls && (name === 'SocketClosedUnexpectedlyError' || name === 'ConnectionTimeoutError' || codes.includes('ECONNRESET'))) {
    return new SextantError(ErrorCode.CONNECTION_FAILED, `TLS connection to redis at ${where} failed (${message})`, {
      hint: 'is TLS enabled on this port? use redis:// for a plain port, rediss:// only for tls-port',
      cause: error,
    });
  }
  if (codes.includes('ENOTFOUND')) {
    return new SextantError(ErrorCode.CONNECTION_FAILED, `cannot resolve redis host "${endpoint.host}"`, { hint: 'check the host name in url', cause: error });
  }
  if (codes.some((c) => CONNECT_CODES.has(c)) || name === 'ConnectionTimeoutError' || name === 'SocketClosedUnexpectedlyError' || name === 'ClientOfflineError') {
    return new SextantError(ErrorCode.CONNECTION_FAILED, `cannot reach redis at ${where} (${codes[0] ?? message})`, {
      hint: `is redis-server running on ${where}? check url (and bind/protected-mode on the server)`,
      cause: error,
    });
  }
  if (name === 'TimeoutError' || name === 'CommandTimeoutDuringMaintenanceError' || name === 'AbortError') {
    return new SextantError(ErrorCode.COLLECT_FAILED, `redis at ${where} did not answer in time (${message})`, {
      hint: 'the server is overloaded or blocked (a slow command, a fork); raise timeout if it is just far away',
      cause: error,
    });
  }
  return new SextantError(ErrorCode.COLLECT_FAILED, `redis at ${where}: ${message}`, { hint: 'see the redis server log', cause: error });
}
