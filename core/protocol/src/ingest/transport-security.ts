/**
 * TLS, loopback and token rules shared by the ingest server and client.
 *
 * - With TLS the server presents `cert`/`key`; with `requireClientCert` it also demands a client
 *   certificate signed by `ca` (mTLS) and the TLS handshake itself fails without one.
 * - Without TLS (`insecureLoopback`) the server refuses to bind anything but a loopback address.
 * - Every call carries `authorization: Bearer <token>`; the server compares in constant time.
 */
import { ServerCredentials, credentials, type ChannelCredentials, type Metadata } from '@grpc/grpc-js';
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import { secretsEqual } from '@sextant/plugin-kit';

/** PEM text or bytes. */
export type Pem = string | Buffer;

export interface ServerTlsOptions {
  readonly cert: Pem;
  readonly key: Pem;
  /** CA that signs client certificates; required with `requireClientCert`. */
  readonly ca?: Pem;
  /** mTLS: refuse clients without a certificate signed by `ca`. Default false. */
  readonly requireClientCert?: boolean;
}

export interface ClientTlsOptions {
  /** CA that signed the server's certificate; the system roots when absent. */
  readonly ca?: Pem;
  /** Client certificate and key, for servers that require mTLS. */
  readonly cert?: Pem;
  readonly key?: Pem;
}

function toBuffer(pem: Pem): Buffer {
  return typeof pem === 'string' ? Buffer.from(pem) : pem;
}

/** `host` of `host:port`, without IPv6 brackets. */
export function hostOf(address: string): string {
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracket) return bracket[1]!;
  const idx = address.lastIndexOf(':');
  return idx > 0 && address.indexOf(':') === idx ? address.slice(0, idx) : address;
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function serverCredentials(address: string, tls: ServerTlsOptions | undefined, insecureLoopback: boolean | undefined): ServerCredentials {
  if (tls) {
    if (tls.requireClientCert && !tls.ca) {
      throw new SextantError(ErrorCode.CONFIG_INVALID, 'tls.requireClientCert is set but tls.ca is missing', {
        hint: 'set tls.ca to the CA certificate that signs your agents\' client certificates',
      });
    }
    return ServerCredentials.createSsl(tls.ca ? toBuffer(tls.ca) : null, [{ cert_chain: toBuffer(tls.cert), private_key: toBuffer(tls.key) }], tls.requireClientCert === true);
  }
  if (!insecureLoopback) {
    throw new SextantError(ErrorCode.CONFIG_INVALID, `ingest server on ${address} has neither tls nor insecureLoopback`, {
      hint: 'give tls { cert, key } (recommended), or insecureLoopback: true for local tries on 127.0.0.1',
    });
  }
  const host = hostOf(address);
  if (!isLoopbackHost(host)) {
    throw new SextantError(ErrorCode.CONFIG_INVALID, `insecureLoopback refuses to listen on "${host}", which is not a loopback address`, {
      hint: 'listen on 127.0.0.1 for local tries, or configure tls { cert, key } to listen on other addresses',
    });
  }
  return ServerCredentials.createInsecure();
}

export function channelCredentials(tls: ClientTlsOptions | undefined, insecure: boolean | undefined): ChannelCredentials {
  if (tls) {
    return credentials.createSsl(tls.ca ? toBuffer(tls.ca) : null, tls.key ? toBuffer(tls.key) : null, tls.cert ? toBuffer(tls.cert) : null);
  }
  if (!insecure) {
    throw new SextantError(ErrorCode.CONFIG_INVALID, 'ingest client has neither tls nor insecure', {
      hint: 'give tls { ca } (and cert/key for mTLS), or insecure: true for a server started with --insecure-loopback',
    });
  }
  return credentials.createInsecure();
}

/** True when `metadata` carries `authorization: Bearer <one of tokens>`. */
/**
 * Which of the accepted tokens the call carries (its index: the tenant), or -1. Compares every
 * token with `secretsEqual` (constant time, the token's length not revealed either).
 */
export function tokenIndex(metadata: Metadata, tokens: readonly Buffer[]): number {
  const values = metadata.get('authorization');
  if (values.length !== 1 || typeof values[0] !== 'string') return -1;
  const got = values[0];
  return tokens.findIndex((want) => secretsEqual(got, want));
}

export function hasValidToken(metadata: Metadata, tokens: readonly Buffer[]): boolean {
  const values = metadata.get('authorization');
  if (values.length !== 1 || typeof values[0] !== 'string') return false;
  return tokenIndex(metadata, tokens) >= 0;
}

export function bearerValues(tokens: string | readonly string[]): Buffer[] {
  const list = typeof tokens === 'string' ? [tokens] : [...tokens];
  if (list.length === 0 || list.some((t) => t.length < 16)) {
    throw new SextantError(ErrorCode.CONFIG_INVALID, 'ingest tokens must be given and be at least 16 characters long', {
      hint: 'generate one with `openssl rand -base64 32` and pass it as ${env:SEXTANT_INGEST_TOKEN}',
    });
  }
  return list.map((t) => Buffer.from(`Bearer ${t}`));
}
