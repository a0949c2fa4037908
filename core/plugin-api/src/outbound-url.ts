/**
 * SSRF guard for every URL a component calls on a user's behalf (webhooks, chat, paging). A
 * notifier URL comes from configuration or, worse, from a template: without this check it can be
 * pointed at the cloud metadata service or an admin port on the loopback interface.
 *
 * Refused unless allow-listed: loopback (127.0.0.0/8, ::1), link-local (169.254.0.0/16, fe80::/10,
 * which includes cloud metadata endpoints), private ranges (10/8, 172.16/12, 192.168/16, fc00::/7),
 * carrier-grade NAT (100.64/10), unspecified and multicast addresses, and non-http(s) schemes.
 * Host names are resolved and EVERY address they resolve to must pass.
 *
 * Callers must also not follow redirects (`fetch(url, { redirect: 'manual' })`): a redirect would
 * bypass the check.
 */
import { isIP } from 'node:net';
import { ErrorCode, SextantError } from './errors.js';

export interface OutboundUrlOptions {
  /**
   * Hosts, IPs or CIDR ranges allowed even though they are internal: `["127.0.0.1", "10.0.0.0/8",
   * "hooks.internal.example"]`. Tests that run a receiver on loopback allow-list it here.
   */
  readonly allow?: readonly string[];
  /** Resolves a host name to addresses; defaults to node:dns lookup (all addresses). */
  readonly lookup?: (host: string) => Promise<readonly string[]>;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => (acc << 8) + Number(part), 0) >>> 0;
}

function expandIpv6(ip: string): number[] {
  let addr = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (v4) {
    const n = ipv4ToInt(v4[1]);
    addr = addr.replace(v4[1], `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`);
  }
  const [head, tail] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail !== undefined ? 8 - h.length - t.length : 0;
  return [...h, ...Array(fill).fill('0'), ...t].map((x) => parseInt(x || '0', 16));
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const family = isIP(ip);
  if (family !== isIP(base)) return false;
  const bits = bitsText === undefined ? (family === 4 ? 32 : 128) : Number(bitsText);
  if (family === 4) {
    if (bits === 0) return true;
    const mask = bits === 32 ? 0xffffffff : (~0 << (32 - bits)) >>> 0;
    return (ipv4ToInt(ip) & mask) === (ipv4ToInt(base) & mask);
  }
  const a = expandIpv6(ip);
  const b = expandIpv6(base);
  for (let i = 0; i < 8; i++) {
    const take = Math.max(0, Math.min(16, bits - i * 16));
    if (take === 0) return true;
    const mask = (0xffff << (16 - take)) & 0xffff;
    if ((a[i] & mask) !== (b[i] & mask)) return false;
  }
  return true;
}

const BLOCKED: readonly [string, string][] = [
  ['0.0.0.0/8', 'an unspecified address'],
  ['127.0.0.0/8', 'loopback'],
  ['10.0.0.0/8', 'a private range'],
  ['172.16.0.0/12', 'a private range'],
  ['192.168.0.0/16', 'a private range'],
  ['100.64.0.0/10', 'carrier-grade NAT'],
  ['169.254.0.0/16', 'link-local (cloud metadata lives here)'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['::/128', 'an unspecified address'],
  ['::1/128', 'loopback'],
  ['fe80::/10', 'link-local'],
  ['fc00::/7', 'a private range'],
  ['ff00::/8', 'multicast'],
  ['::ffff:0:0/96', 'an IPv4-mapped address'],
];

/** Why an IP address is internal, or undefined when it is public. */
export function internalAddressReason(ip: string): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return internalAddressReason(mapped[1]) ?? 'an IPv4-mapped address';
  const mappedHex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (mappedHex) {
    const hi = parseInt(mappedHex[1], 16);
    const lo = parseInt(mappedHex[2], 16);
    return internalAddressReason(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`) ?? 'an IPv4-mapped address';
  }
  for (const [cidr, why] of BLOCKED) if (inCidr(ip, cidr)) return why;
  return undefined;
}

function allowed(hostOrIp: string, allow: readonly string[]): boolean {
  return allow.some((a) => (a.includes('/') || isIP(a) ? isIP(hostOrIp) !== 0 && inCidr(hostOrIp, a.includes('/') ? a : `${a}/${isIP(a) === 4 ? 32 : 128}`) : a.toLowerCase() === hostOrIp.toLowerCase()));
}

async function defaultLookup(host: string): Promise<readonly string[]> {
  const { lookup } = await import('node:dns/promises');
  return (await lookup(host, { all: true, verbatim: true })).map((r) => r.address);
}

/**
 * Throws `SEXTANT_ERR_URL_REFUSED` unless `url` is an http(s) URL whose host (and every address it
 * resolves to) is public or allow-listed. Returns the parsed URL.
 */
export async function checkOutboundUrl(url: string, options: OutboundUrlOptions = {}): Promise<URL> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SextantError(ErrorCode.URL_REFUSED, `"${url}" is not a URL`, { hint: 'use an absolute http(s) URL such as https://hooks.example.com/sextant' });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new SextantError(ErrorCode.URL_REFUSED, `${parsed.protocol} URLs are not allowed (${parsed.host})`, { hint: 'use http or https' });
  }
  if (parsed.username || parsed.password) {
    throw new SextantError(ErrorCode.URL_REFUSED, `URL for ${parsed.hostname} carries credentials`, { hint: 'pass secrets through the notifier\'s token/secret settings (from env or a file), not in the URL' });
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const allow = options.allow ?? [];
  if (allowed(host, allow)) return parsed;
  const addresses = isIP(host) ? [host] : await (options.lookup ?? defaultLookup)(host).catch((e: Error) => {
    throw new SextantError(ErrorCode.URL_REFUSED, `cannot resolve ${host}: ${e.message}`, { hint: 'check the host name' });
  });
  for (const ip of addresses) {
    const why = internalAddressReason(ip);
    if (why && !allowed(ip, allow)) {
      throw new SextantError(ErrorCode.URL_REFUSED, `${host} ${host === ip ? 'is' : `resolves to ${ip}, which is`} ${why}`, {
        hint: `if this receiver is meant to be internal, add "${host === ip ? ip : host}" to the notifier's allow list`,
      });
    }
  }
  return parsed;
}
