/**
 * Configuration of the `rum` collector (`collectors.rum` in sextant.yaml). Every key has a default
 * except `allowedOrigins`: a collect endpoint that accepts beacons from any site is an open door
 * for made-up business figures.
 */
import { durationMs } from '@sextant/plugin-kit';
import { z } from 'zod';

const duration = durationMs();

const origin = z.string().refine(
  (v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === v;
    } catch {
      return false;
    }
  },
  { message: 'must be an origin: scheme://host[:port] with no path or trailing slash, e.g. https://shop.example.com' },
);

/** Default user-agent fragments of crawlers, headless browsers and HTTP libraries (matched lower-case, as substrings). */
export const DEFAULT_BOT_USER_AGENTS = [
  'bot',
  'crawl',
  'spider',
  'slurp',
  'headlesschrome',
  'phantomjs',
  'lighthouse',
  'pingdom',
  'curl/',
  'wget/',
  'python-requests',
  'go-http-client',
  'okhttp',
  'java/',
];

export const rumConfigSchema = z.object({
  /**
   * host:port of the collect endpoint's own HTTP listener, or `api`: mounted on the API server at
   * `/ingest/<instance id>/` (no port of its own). The default is a port of its own, because the
   * page's visitors must reach the endpoint and the API's read endpoints are open on its address.
   */
  listen: z.union([z.literal('api'), z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port (e.g. 127.0.0.1:7090 or 0.0.0.0:7090) or "api"')]),
  /** Sites whose pages may send beacons (the Origin header must match one exactly). */
  allowedOrigins: z.array(origin).min(1, 'list the origins of your site, e.g. ["https://shop.example.com"]'),
  /** Largest beacon body, bytes (sendBeacon itself stops at 64 KiB). */
  maxBodyBytes: z.number().int().min(1024).max(1024 * 1024),
  /** Token bucket per origin: sustained beacons per second and burst size. */
  rateLimit: z.object({ perSecond: z.number().positive().max(1e6), burst: z.number().int().min(1).max(1e7) }),
  /** Share of sessions whose timings and vitals are kept (0..1); page views, errors and commerce are always counted. */
  sampleRate: z.number().min(0).max(1),
  /** Beacons whose User-Agent contains one of these (case-insensitive) are refused as bots. */
  botUserAgents: z.array(z.string().min(2)),
  /** `service.name` of the site. */
  serviceName: z.string().min(1),
  /**
   * `service.name`s of the backends the site's pages call. Reported as topology edges
   * (`service:<serviceName>` calls `service:<backend>`), so the incident correlator folds a
   * conversion drop into the backend's latency incident and labels it business impact.
   */
  calls: z.array(z.string().min(1).max(200)).max(100),
  /** Extra resource attributes, merged last (except `sextant.impact`, which the plugin sets per series). */
  resource: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  /** Distinct page names that get their own series; later ones are counted under `other`. */
  maxPages: z.number().int().min(1).max(10_000),
  /** Sessions idle longer than this end; conversion rate and cart abandonment are computed over it. */
  sessionWindow: duration,
  /** Most sessions remembered (memory bound; the oldest are forgotten first). */
  maxSessions: z.number().int().min(100).max(10_000_000),
  /** Currency of e-commerce events that carry none (ISO 4217). */
  defaultCurrency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR'),
  /** Larger purchase values are refused as implausible (counted in events_dropped_total). */
  maxOrderValue: z.number().positive(),
});

export type RumConfig = z.output<typeof rumConfigSchema>;

export const rumConfigDefaults: Partial<z.input<typeof rumConfigSchema>> = {
  listen: '127.0.0.1:7090',
  maxBodyBytes: 64 * 1024,
  rateLimit: { perSecond: 1000, burst: 5000 },
  sampleRate: 1,
  botUserAgents: DEFAULT_BOT_USER_AGENTS,
  serviceName: 'web',
  calls: [],
  resource: {},
  maxPages: 200,
  sessionWindow: '30m',
  maxSessions: 200_000,
  defaultCurrency: 'USD',
  maxOrderValue: 1_000_000,
};
