/**
 * Configuration of the `statsd` collector (`collectors.statsd` in sextant.yaml). Every key has a
 * default: `collectors: { statsd: {} }` listens on 127.0.0.1:8125 (UDP and TCP).
 */
import { durationMs as durationField } from '@sextant/plugin-kit';
import { z } from 'zod';

const duration = durationField();

export const statsdConfigSchema = z
  .object({
    /** host:port of the listener; UDP and TCP share the port. Port 0 picks a free one (tests). */
    listen: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:8125 or 0.0.0.0:8125'),
    /** Accept datagrams. */
    udp: z.boolean(),
    /** Accept newline-separated lines over TCP connections. */
    tcp: z.boolean(),
    /** UDP: bytes of a datagram read; the rest (and the line cut in two) is dropped and counted. TCP: longest line. */
    maxPacketBytes: z.number().int().min(512).max(1024 * 1024),
    /** UDP socket receive buffer (SO_RCVBUF), bytes: room for bursts between reads. Linux caps it at net.core.rmem_max. */
    udpReceiveBufferBytes: z.number().int().min(8192).max(1024 * 1024 * 1024),
    /** Most open TCP connections; more are closed at once. */
    maxConnections: z.number().int().min(1).max(100_000),
    /** Distinct metric name + tag sets tracked at once; lines for new ones beyond that are dropped and counted. */
    maxSeries: z.number().int().min(1).max(1_000_000),
    /** Distinct members counted per set per interval. */
    maxSetMembers: z.number().int().min(1).max(10_000_000),
    /** Counters become a per-second rate (`rate`), a running total (`total`, `<name>.total`), or both. */
    counters: z.enum(['rate', 'total', 'both']),
    /** A metric+tags set with no line for this long is forgotten (stops reporting; frees its slot). */
    expireAfter: duration,
    /** DogStatsD events (`_e{...}`) stored per flush interval; more are counted and ignored. 0 ignores them all. */
    maxEventsPerInterval: z.number().int().min(0).max(100_000),
    /** Prepended to every metric name, e.g. `statsd.`. */
    prefix: z.string().max(100).regex(/^[A-Za-z0-9_.-]*$/, 'letters, digits, `_`, `.` and `-` only'),
    /** Extra resource attributes (the host's resource is always there). */
    resource: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  })
  .refine((c) => c.udp || c.tcp, { message: 'enable udp, tcp or both', path: ['udp'] });

export type StatsdConfig = z.output<typeof statsdConfigSchema>;

export const statsdConfigDefaults: Partial<z.input<typeof statsdConfigSchema>> = {
  listen: '127.0.0.1:8125',
  udp: true,
  tcp: true,
  maxPacketBytes: 65_536,
  udpReceiveBufferBytes: 8 * 1024 * 1024,
  maxConnections: 1024,
  maxSeries: 10_000,
  maxSetMembers: 100_000,
  counters: 'rate',
  maxEventsPerInterval: 100,
  expireAfter: '5m',
  prefix: '',
  resource: {},
};
