/**
 * The SMTP connection, opened by us and handed to nodemailer (its `getSocket` hook), so the SSRF
 * guard checks the address the socket actually connects to: the host name is resolved once, inside
 * `net.connect`, through `guardedLookup` from `@sextant/integration-kit`, and every address of the
 * answer must pass (or be allow-listed) before a byte is sent. Without this, nodemailer would
 * resolve the name again after our pre-check, and a DNS answer that changed in between (rebinding)
 * could reach an internal address. IP literals skip DNS; the pre-check (`checkOutboundUrl`) covers
 * them. TLS (implicit or STARTTLS) is still negotiated by nodemailer over this socket, verifying
 * the certificate against the configured host name.
 */
import { connect, type Socket } from 'node:net';
import { guardedLookup, type ResolveAll } from '@sextant/integration-kit';

export interface SmtpSocketOptions {
  readonly host: string;
  readonly port: number;
  /** Hosts, IPs or CIDRs allowed although internal (the notifier's `allow`). */
  readonly allow: readonly string[];
  /** Longest wait for the TCP connection, in milliseconds. */
  readonly timeoutMs: number;
  /** Resolver for the host name; defaults to the system resolver. Tests play DNS answers here. */
  readonly resolve?: ResolveAll;
}

/** A connected TCP socket to the SMTP server, or a rejection (`SEXTANT_ERR_URL_REFUSED`, ECONNREFUSED, a timeout). */
export function connectSmtpSocket(options: SmtpSocketOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: options.host, port: options.port, lookup: guardedLookup(options.allow, options.resolve) });
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(options.timeoutMs, () => fail(Object.assign(new Error(`connection to ${options.host}:${options.port} timed out after ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.removeListener('error', fail);
      resolve(socket);
    });
  });
}
