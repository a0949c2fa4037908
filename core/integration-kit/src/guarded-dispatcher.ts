/**
 * The connect-time half of the SSRF guard: an undici dispatcher whose DNS lookup hook checks every
 * address a socket is about to connect to with `checkResolvedAddress` (`outbound-url.ts`).
 *
 * Why: `checkOutboundUrl` resolves a host name and checks the answer, then the HTTP client resolves
 * it again to connect. A name with a short TTL can answer "public" to the first lookup and
 * "169.254.169.254" to the second (DNS rebinding). Here the address that is checked is the address
 * that is used: the lookup hook hands the socket only addresses that passed, and a refused answer
 * fails the connection with `SEXTANT_ERR_URL_REFUSED` before any byte is sent.
 *
 * IP-literal URLs never reach the lookup hook (sockets skip DNS for them); `checkOutboundUrl`
 * checks those before the request, with no window in between.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import type { Agent } from 'undici';
import { checkResolvedAddress } from './outbound-url.js';

/** Resolves a host name to every address it has (like `dns.lookup(host, { all: true })`). */
export type ResolveAll = (host: string) => Promise<readonly string[]>;

export interface GuardedDispatcherOptions {
  /** Hosts, IPs or CIDR ranges allowed although internal (the notifier's `allow` config). */
  readonly allow: readonly string[];
  /** Resolver used at connect time; defaults to the system resolver (`dns.lookup`, all addresses). */
  readonly resolve?: ResolveAll;
  /** Connect timeout in milliseconds; the request's own timeout still bounds the whole exchange. */
  readonly connectTimeoutMs?: number;
}

function systemResolveAll(host: string): Promise<readonly string[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses: LookupAddress[]) => (err ? reject(err) : resolve(addresses.map((a) => a.address)))),
  );
}

/**
 * A `net.connect` lookup hook that refuses internal addresses. Every address in the answer must pass
 * (as in `checkOutboundUrl`): a name that resolves to one public and one internal address is refused
 * rather than raced. Honours both calling forms of the hook (`all: true` with Happy Eyeballs, and
 * the single-address form).
 */
export function guardedLookup(allow: readonly string[], resolve: ResolveAll = systemResolveAll): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (answer) => {
        const addresses = answer.map((address) => ({ address, family: isIP(address) }));
        try {
          if (addresses.length === 0) throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
          for (const a of addresses) checkResolvedAddress(hostname, a.address, allow);
        } catch (e) {
          callback(e as NodeJS.ErrnoException, '', 0);
          return;
        }
        const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
        if (wanted.length === 0) {
          callback(Object.assign(new Error(`${hostname} has no IPv${options.family} address`), { code: 'ENOTFOUND' }), '', 0);
          return;
        }
        if (options.all) (callback as unknown as (err: null, addresses: LookupAddress[]) => void)(null, wanted);
        else callback(null, wanted[0].address, wanted[0].family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

/**
 * An undici dispatcher for `fetch` from the `undici` package whose connections pass the SSRF guard.
 * Close it (`await dispatcher.close()`) when done; one per notifier instance or per request.
 * Async because undici is loaded on first use: a collector that imports this package for its
 * MetricWriter does not carry undici (~19 MiB RSS measured on Node 20) in its process.
 */
export async function createGuardedDispatcher(options: GuardedDispatcherOptions): Promise<Agent> {
  const { Agent } = await import('undici');
  return new Agent({
    connect: {
      lookup: guardedLookup(options.allow, options.resolve),
      ...(options.connectTimeoutMs !== undefined ? { timeout: options.connectTimeoutMs } : {}),
    },
  });
}
