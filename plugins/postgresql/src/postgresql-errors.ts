/**
 * Turns what node-postgres and Node's sockets throw into a coded error that tells the fix. This is
 * what `sextant plugins status` shows for a postgresql instance. Messages never contain the
 * password or the URL.
 */
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import type { PostgresqlEndpoint } from './config.js';

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

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

/** SQLSTATE of a server error (node-postgres puts it in `code`), if any. */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function classifyPostgresqlError(error: unknown, endpoint: PostgresqlEndpoint, user: string): SextantError {
  const where = `${endpoint.host}:${endpoint.port}`;
  const message = messageOf(error);
  const state = sqlStateOf(error);
  const codes = codesOf(error);

  // 28P01 invalid_password, 28000 invalid_authorization_specification (pg_hba.conf rejected us)
  if (state === '28P01') {
    return new SextantError(ErrorCode.AUTH_FAILED, `postgresql at ${where} refused the password of role "${user}" (${message})`, {
      hint: 'check username/password (password: ${env:PGPASSWORD} or passwordFile)',
      cause: error,
    });
  }
  if (state === '28000') {
    return new SextantError(ErrorCode.AUTH_FAILED, `postgresql at ${where} does not let role "${user}" connect (${message})`, {
      hint: `add a pg_hba.conf line for the collector's address, role "${user}" and database "${endpoint.database}", then SELECT pg_reload_conf()`,
      cause: error,
    });
  }
  if (state === '3D000') {
    return new SextantError(ErrorCode.CONFIG_INVALID, `postgresql at ${where} has no database "${endpoint.database}" (${message})`, {
      hint: 'set the database in url to one that exists, e.g. postgresql://host:5432/postgres',
      cause: error,
    });
  }
  if (state === '53300') {
    return new SextantError(ErrorCode.CONNECTION_FAILED, `postgresql at ${where} has no connection slot left (${message})`, {
      hint: 'max_connections is reached: find the clients that hold connections (pg_stat_activity) or raise max_connections; grant the collector role pg_monitor or a reserved slot',
      cause: error,
    });
  }
  if (state === '57P01' || state === '57P02' || state === '57P03') {
    return new SextantError(ErrorCode.CONNECTION_FAILED, `postgresql at ${where} is shutting down or starting up (${message})`, {
      hint: 'wait for the server to finish starting; check its log if this lasts',
      cause: error,
    });
  }
  if (state === '42501') {
    return new SextantError(ErrorCode.AUTH_FAILED, `role "${user}" may not read a statistics view on ${where} (${message})`, {
      hint: `GRANT pg_monitor TO "${user}"`,
      cause: error,
    });
  }
  if (state === '57014' || /query read timeout|timeout exceeded/i.test(message)) {
    return new SextantError(ErrorCode.COLLECT_FAILED, `postgresql at ${where} did not answer a statistics query in time (${message})`, {
      hint: 'the server is overloaded or a lock blocks the statistics views; raise timeout if it is just far away',
      cause: error,
    });
  }
  if (codes.includes('ENOTFOUND')) {
    return new SextantError(ErrorCode.CONNECTION_FAILED, `cannot resolve postgresql host "${endpoint.host}"`, { hint: 'check the host name in url', cause: error });
  }
  if (codes.some((c) => CONNECT_CODES.has(c)) || /connection terminated|timeout expired|connection timeout|not queryable|Client was closed/i.test(message)) {
    return new SextantError(ErrorCode.CONNECTION_FAILED, `cannot reach postgresql at ${where} (${codes[0] ?? message})`, {
      hint: `is postgres running and listening on ${where}? check url, listen_addresses and port in postgresql.conf`,
      cause: error,
    });
  }
  if (/does not support SSL|SSL/i.test(message)) {
    return new SextantError(ErrorCode.CONNECTION_FAILED, `postgresql at ${where}: ${message}`, {
      hint: 'this collector connects without TLS; allow a plain (host, not hostssl) pg_hba.conf line for it',
      cause: error,
    });
  }
  return new SextantError(ErrorCode.COLLECT_FAILED, `postgresql at ${where}: ${message}${state ? ` (SQLSTATE ${state})` : ''}`, { hint: 'see the postgresql server log', cause: error });
}
