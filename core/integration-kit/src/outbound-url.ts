/**
 * SSRF guard for every URL a component calls on a user's behalf (webhooks, chat, paging). A
 * notifier URL comes from configuration or, worse, from a template: without this check it can be
 * pointed at the cloud metadata service or an admin port on the loopback interface.
 *
 * Refused unless allow-listed: loopback (127.0.0.0/8, ::1), link-local (169.254.0.0/16, fe80::/10,
 * which includes cloud metadata endpoints), private ranges (10/8, 172.16/12, 192.168/16, fc00::/7),
 * carrier-grade NAT (100.64/10), benchmarking (198.18/15), reserved and documentation ranges,
 * IPv6 prefixes that carry an IPv4 address to a gateway (NAT64 64:ff9b::/96 and 64:ff9b:1::/48,
 * 6to4 2002::/16, Teredo 2001::/32, IPv4-mapped ::ffff:0:0/96 when the IPv4 inside is internal),
 * unspecified, broadcast and multicast addresses, and non-http(s) schemes. Ranges are matched with
 * `node:net` BlockList.
 *
 * Two checks, one rule:
 * - {@link checkOutboundUrl} before a request (and at start, for an early status): the scheme,
 *   credentials in the URL, IP literals, and a host name's current DNS answer;
 * - {@link checkResolvedAddress} at connect time, on every address the socket is about to use
 *   (the guarded dispatcher, `guarded-dispatcher.ts`, calls it from its DNS lookup hook). Only this
 *   one closes the DNS-rebinding window between "checked" and "connected"; callers that open
 *   connections must use it.
 *
 * Callers must also not follow redirects (`fetch(url, { redirect: 'manual' })`): a redirect would
 * bypass the check.
 */
import { BlockList, isIP } from 'node:net';
import { ErrorCode, SextantError } from '@sextant/plugin-api';

export interface OutboundUrlOptions {
  /**
   * Hosts, IPs or CIDR ranges allowed even though they are internal: `["127.0.0.1", "10.0.0.0/8",
   * "hooks.internal.example"]`. Tests that run a receiver on loopback allow-list it here.
   */
  readonly allow?: readonly string[];
  /** Resolves a host name to addresses; defaults to node:dns lookup (all addresses). */
  readonly lookup?: (host: string) => Promise<readonly string[]>;
}

type Family = 'ipv4' | 'ipv6';

function familyOf(ip: string): Family | undefined {
  const f = isIP(ip);
  return f === 4 ? 'ipv4' : f === 6 ? 'ipv6' : undefined;
}

/** Ranges refused unless allow-listed, each with the reason a user reads. First match wins. */
const BLOCKED: readonly [string, string][] = [
  ['0.0.0.0/8', 'an unspecified address'],
  ['127.0.0.0/8', 'loopback'],
  ['10.0.0.0/8', 'a private range'],
  ['172.16.0.0/12', 'a private range'],
  ['192.168.0.0/16', 'a private range'],
  ['100.64.0.0/10', 'carrier-grade NAT'],
  ['169.254.0.0/16', 'link-local (cloud metadata lives here)'],
  ['192.0.0.0/24', 'reserved for protocol assignments'],
  ['192.0.2.0/24', 'a documentation range'],
  ['198.18.0.0/15', 'a benchmarking range (often used inside networks)'],
  ['198.51.100.0/24', 'a documentation range'],
  ['203.0.113.0/24', 'a documentation range'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
  ['255.255.255.255/32', 'broadcast'],
  ['::/128', 'an unspecified address'],
  ['::1/128', 'loopback'],
  ['fe80::/10', 'link-local'],
  ['fc00::/7', 'a private range'],
  ['ff00::/8', 'multicast'],
  ['64:ff9b::/96', 'NAT64 (reaches IPv4 hosts through a gateway)'],
  ['64:ff9b:1::/48', 'local-use NAT64 (reaches IPv4 hosts through a gateway)'],
  ['2002::/16', '6to4 (reaches IPv4 hosts through a relay)'],
  ['2001::/32', 'Teredo (reaches IPv4 hosts through a relay)'],
  ['2001:db8::/32', 'a documentation range'],
  ['100::/64', 'the discard prefix'],
];

function addRule(list: BlockList, entry: string): boolean {
  const [base, bitsText] = entry.split('/');
  const family = familyOf(base);
  if (!family) return false;
  if (bitsText === undefined) list.addAddress(base, family);
  else {
    const bits = Number(bitsText);
    if (!Number.isInteger(bits) || bits < 0 || bits > (family === 'ipv4' ? 32 : 128)) return false;
    list.addSubnet(base, bits, family);
  }
  return true;
}

const BLOCKED_LISTS: readonly [BlockList, string][] = BLOCKED.map(([cidr, why]) => {
  const list = new BlockList();
  addRule(list, cidr);
  return [list, why];
});

/** Why an IP address is internal, or undefined when it is public (or not an IP address). */
export function internalAddressReason(ip: string): string | undefined {
  const family = familyOf(ip);
  if (!family) return undefined;
  // BlockList matches an IPv4-mapped IPv6 address (::ffff:a.b.c.d, ::ffff:7f00:1) against the IPv4 rules.
  for (const [list, why] of BLOCKED_LISTS) if (list.check(ip, family)) return why;
  // Any other IPv4-mapped address (a public IPv4 in IPv6 clothing) is refused too; the URL parser
  // gives the canonical form, so 0:0:0:0:0:ffff:808:808 is caught like ::ffff:8.8.8.8.
  if (family === 'ipv6' && new URL(`http://[${ip}]/`).hostname.startsWith('[::ffff:')) return 'an IPv4-mapped address';
  return undefined;
}

/** Whether `hostOrIp` is on the allow list (host names case-insensitively, IPs by address or CIDR). */
function allowed(hostOrIp: string, allow: readonly string[]): boolean {
  const family = familyOf(hostOrIp);
  return allow.some((entry) => {
    if (!entry.includes('/') && !familyOf(entry)) return entry.toLowerCase() === hostOrIp.toLowerCase();
    if (!family) return false;
    const list = new BlockList();
    return addRule(list, entry) && list.check(hostOrIp, family);
  });
}

/**
 * Throws `SEXTANT_ERR_URL_REFUSED` when `address` (an IP that `host` resolved to, or `host` itself
 * when it is an IP literal) is internal and neither the host nor the address is allow-listed. The
 * connect-time half of the guard: call it on every address a socket is about to connect to.
 */
export function checkResolvedAddress(host: string, address: string, allow: readonly string[] = []): void {
  const bareHost = host.replace(/^\[|\]$/g, '');
  if (allowed(bareHost, allow) || allowed(address, allow)) return;
  const why = familyOf(address) ? internalAddressReason(address) : `not an IP address ("${address}")`;
  if (!why) return;
  const literal = bareHost === address;
  throw new SextantError(ErrorCode.URL_REFUSED, `${bareHost} ${literal ? 'is' : `resolves to ${address}, which is`} ${why}`, {
    hint: `if this receiver is meant to be internal, add "${literal ? address : bareHost}" to the notifier's allow list`,
  });
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
  for (const ip of addresses) checkResolvedAddress(host, ip, allow);
  return parsed;
}
