/**
 * Turns what mysql2 and Node's sockets throw into a coded error that tells the fix. This is what
 * `sextant plugins status` shows for a mysql instance. Messages never contain the password or the
 * URL.
 */
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import type { MysqlEndpoint } from './config.js';

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'PROTOCOL_CONNECTION_LOST', 'ER_SERVER_SHUTDOWN', 'ER_CONNECTION_KILLED']);

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

export function classifyMysqlError(error: unknown, endpoint: MysqlEndpoint, user: string): SextantError {
  const where = `${endpoint.host}:${endpoint.port}`;
  const message = messageOf(error);
  const codes = codesOf(error);
  const has = (...wanted: string[]) => wanted.some((w) => codes.includes(w));

  if (has('ER_ACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR')) {
    return new SextantError(ErrorCode.AUTH_FAILED, `mysql at ${where} refused user "${user}" (${message})`, {
      hint: 'check username/password (password: ${env:MYSQL_PASSWORD} or passwordFile) and that the user may connect from the collector\'s address',
      cause: error,
    });
  }
  if (has('ER_HOST_NOT_PRIVILEGED', 'ER_HOST_IS_BLOCKED')) {
    return new SextantError(ErrorCode.AUTH_FAILED, `mysql at ${where} does not accept connections from the collector's host (${message})`, {
      hint: codes.includes('ER_HOST_IS_BLOCKED') ? 'run FLUSH HOSTS on the server (too many failed connects) and check max_connect_errors' : `CREATE USER '${user}'@'<collector address>' ...`,
      cause: error,
    });
  }
  if (has('ER_SPECIFIC_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_TABLEACCESS_DENIED_ERROR')) {
    return new SextantError(ErrorCode.AUTH_FAILED, `user "${user}" may not read a statistic on ${where} (${message})`, {
      hint: `GRANT PROCESS, REPLICATION CLIENT ON *.* TO '${user}'@'<collector address>'`,
      cause: error,
    });
  }
  if (has('ER_CON_COUNT_ERROR', 'ER_TOO_MANY_USER_CONNECTIONS')) {
    return new SextantError(ErrorCode.CONNECTION_FAILED, `mysql at ${where} has no connection slot left (${message})`, {
      hint: 'max_connections is reached: find the clients that hold connections (SHOW PROCESSLIST as a SUPER/CONNECTION ADMIN user, which keeps one extra slot) or raise max_connections',
      cause: error,
    });
  }
  if (has('PROTOCOL_SEQUENCE_TIMEOUT') || /timeout/i.test(message) && !has('ETIMEDOUT')) {
    return new SextantError(ErrorCode.COLLECT_FAILED, `mysql at ${where} did not answer in time (${message})`, {
      hint: 'the server is overloaded or blocked; raise timeout if it is just far away',
      cause: error,
    });
  }
  if (has('ENOTFOUND')) {
    return new SextantError(ErrorCode.CONNECTION_FAILED, `cannot resolve mysql host "${endpoint.host}"`, { hint: 'check the host name in url', cause: error });
  }
  if (codes.some((c) => CONNECT_CODES.has(c)) || codes.some((c) => c.startsWith('HANDSHAKE_')) || /closed state|connection lost|malformed|packets out of order/i.test(message)) {
    return new SextantError(ErrorCode.CONNECTION_FAILED, `cannot reach mysql at ${where} (${codes[0] ?? message})`, {
      hint: `is mysqld/mariadbd running and listening on ${where}? check url, bind-address and port (and skip-networking) in the server config`,
      cause: error,
    });
  }
  return new SextantError(ErrorCode.COLLECT_FAILED, `mysql at ${where}: ${message}${codes[0] ? ` (${codes[0]})` : ''}`, { hint: 'see the server error log', cause: error });
}
