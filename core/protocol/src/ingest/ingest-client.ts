/**
 * The agent half of agent-to-server ingest: buffers what the agent produces as numbered messages,
 * keeps one `sextant.ingest.v1.Ingest` stream open, and resends whatever the server has not
 * acknowledged after every reconnect.
 *
 * Guarantees and limits:
 * - Every message carries the agent's `sourceId` and a sequence number (1, 2, 3, ...); the server
 *   de-duplicates, so resending is always safe.
 * - The buffer is bounded (`maxBufferBatches`, `maxBufferBytes`). When full, the OLDEST messages
 *   are dropped and counted (`dropped`), and the server is told not to wait for them.
 * - Reconnects back off exponentially with jitter (`backoff`); the attempt counter resets once a
 *   server has answered a hello.
 * - `send()` never throws after construction and never blocks; problems show in `stats()` and
 *   `lastError`.
 */
import { Client, Metadata, status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import type { Logger, SampleBatch, SelfCounter, SelfMetrics, SextantEvent, TopologyUpdate } from '@sextant/plugin-api';
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import { BYTES_PER_SAMPLE, decodeIngestAck, encodeIngestRequest, type IngestAck, type SeriesDefinition } from './ingest-codec.js';
import { INGEST_METHOD_PATH } from './ingest-server.js';
import { ProtoWriter } from './protobuf-wire.js';
import { channelCredentials, type ClientTlsOptions } from './transport-security.js';

/** After the server refuses the token, the first retry waits this long, doubling up to AUTH_RETRY_MAX_MS. */
const AUTH_RETRY_INITIAL_MS = 5_000;
const AUTH_RETRY_MAX_MS = 300_000;

export interface BackoffOptions {
  /** First retry delay in ms. Default 100. */
  readonly initialMs?: number;
  /** Largest retry delay in ms. Default 10,000. */
  readonly maxMs?: number;
  /** Fraction 0..1 of each delay that is randomised away, so agents do not retry in lockstep. Default 0.2. */
  readonly jitter?: number;
}

export interface IngestClientOptions {
  /** Server `host:port`. */
  readonly address: string;
  /** TLS (recommended): `ca` of the server's certificate; `cert`/`key` for mTLS. */
  readonly tls?: ClientTlsOptions;
  /** Plain text, for servers started with insecureLoopback. */
  readonly insecure?: boolean;
  readonly token: string;
  /** Stable id of this agent, e.g. `agent:<host.name>`. */
  readonly sourceId: string;
  /** Messages kept until acknowledged. Default 10,000. */
  readonly maxBufferBatches?: number;
  /** Bytes kept until acknowledged. Default 64 MiB. */
  readonly maxBufferBytes?: number;
  /** Largest message this client writes; batches are split below it. Default 4 MiB (the server's default). */
  readonly maxMessageBytes?: number;
  readonly backoff?: BackoffOptions;
  /** Override for the TLS server name (when the certificate's name differs from the address). */
  readonly serverNameOverride?: string;
  readonly metrics?: SelfMetrics;
  readonly logger?: Logger;
}

export type DropReason = 'buffer-full' | 'oversized' | 'rejected';

export interface IngestClientStats {
  /** Messages created by send() (unique sequences). */
  batches: number;
  /** Message writes to a stream, resends included. */
  sent: number;
  /** Of `sent`, writes of a message that had been written before (after a reconnect). */
  resent: number;
  /** Messages the server acknowledged. */
  acked: number;
  /** Messages given up on, by reason. */
  dropped: Record<DropReason, number>;
  /** Reconnect attempts after a failed or broken stream. */
  retries: number;
  bufferedBatches: number;
  bufferedBytes: number;
  connected: boolean;
}

interface BufferedMessage {
  readonly sequence: number;
  readonly bytes: Buffer;
  written: boolean;
}

const NO_LOGGER: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const raw = (b: Buffer): Buffer => b;

export class IngestClient {
  private readonly client: Client;
  private readonly metadata: Metadata;
  private readonly writer = new ProtoWriter(64 * 1024);
  private readonly knownSeries = new Map<number, SeriesDefinition>();
  private readonly buffer: BufferedMessage[] = [];
  private head = 0;
  private bufferedBytes = 0;
  private nextSequence = 1;
  private nextToSend = 1;
  private call: ClientDuplexStream<Buffer, Buffer> | undefined;
  private phase: 'down' | 'hello' | 'streaming' = 'down';
  private attempt = 0;
  /** Consecutive refusals of the token (reset by the first acknowledgement). */
  private authFailures = 0;
  private authLoggedAt = Number.NEGATIVE_INFINITY;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private waitingForDrain = false;
  private closed = false;
  private dropFirstUnacked: DropReason | undefined;
  private maxMessageBytes: number;
  private readonly maxBufferBatches: number;
  private readonly maxBufferBytes: number;
  private readonly backoff: Required<BackoffOptions>;
  private readonly logger: Logger;
  private readonly counters: IngestClientStats;
  private readonly selfCounters: Partial<Record<'sent' | 'acked' | 'dropped' | 'retries', SelfCounter>> = {};
  private flushWaiters: Array<() => void> = [];
  /** The last error the stream ended with, as a coded error (undefined while healthy). */
  lastError: SextantError | undefined;

  constructor(private readonly options: IngestClientOptions) {
    if (!options.sourceId) throw new SextantError(ErrorCode.CONFIG_INVALID, 'ingest client needs a sourceId', { hint: 'use a stable name such as agent:<host name>' });
    if (!options.token) throw new SextantError(ErrorCode.CONFIG_INVALID, 'ingest client needs a token', { hint: 'pass the server\'s ingest token, e.g. ${env:SEXTANT_INGEST_TOKEN}' });
    this.maxBufferBatches = options.maxBufferBatches ?? 10_000;
    this.maxBufferBytes = options.maxBufferBytes ?? 64 * 1024 * 1024;
    this.maxMessageBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
    this.backoff = { initialMs: options.backoff?.initialMs ?? 100, maxMs: options.backoff?.maxMs ?? 10_000, jitter: Math.min(1, Math.max(0, options.backoff?.jitter ?? 0.2)) };
    this.logger = options.logger ?? NO_LOGGER;
    this.counters = { batches: 0, sent: 0, resent: 0, acked: 0, dropped: { 'buffer-full': 0, oversized: 0, rejected: 0 }, retries: 0, bufferedBatches: 0, bufferedBytes: 0, connected: false };
    if (options.metrics) {
      this.selfCounters.sent = options.metrics.counter('ingest_client_sent_total', 'Ingest messages written, resends included');
      this.selfCounters.acked = options.metrics.counter('ingest_client_acked_total', 'Ingest messages acknowledged by the server');
      this.selfCounters.dropped = options.metrics.counter('ingest_client_dropped_total', 'Ingest messages given up on, by reason');
      this.selfCounters.retries = options.metrics.counter('ingest_client_retries_total', 'Reconnects to the ingest server');
    }
    this.metadata = new Metadata();
    this.metadata.set('authorization', `Bearer ${options.token}`);
    this.client = new Client(options.address, channelCredentials(options.tls, options.insecure), {
      // Without this grpc-js keeps every message of a long stream for retries and slows down ~10x.
      'grpc.per_rpc_retry_buffer_size': 0,
      'grpc.keepalive_time_ms': 15_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.keepalive_permit_without_calls': 1,
      ...(options.serverNameOverride ? { 'grpc.ssl_target_name_override': options.serverNameOverride, 'grpc.default_authority': options.serverNameOverride } : {}),
    });
    this.connect();
  }

  /**
   * Queues series definitions (new ones only; the client remembers them for reconnects), samples
   * `[0, batch.length)`, events and topology updates as one or more numbered messages. The batch is
   * copied: the caller may reuse its arrays right away.
   */
  send(newSeries: readonly SeriesDefinition[], batch?: SampleBatch, events?: readonly SextantEvent[], topology?: readonly TopologyUpdate[]): void {
    if (this.closed) return;
    for (const def of newSeries) this.knownSeries.set(def.localId, def);
    const eventsJson = (events ?? []).map((e) => JSON.stringify(e));
    const topologyJson = (topology ?? []).map((t) => JSON.stringify(t));
    const total = batch?.length ?? 0;
    const perMessage = Math.max(1, Math.floor((this.maxMessageBytes - 4096) / BYTES_PER_SAMPLE));
    let from = 0;
    let first = true;
    do {
      const to = Math.min(total, from + perMessage);
      const sequence = this.nextSequence++;
      this.writer.reset();
      encodeIngestRequest(this.writer, {
        sourceId: this.options.sourceId,
        sequence,
        retainedFrom: 0,
        ...(first ? { series: newSeries, eventsJson, topologyJson } : {}),
        ...(batch ? { batch, from, to } : {}),
      });
      const bytes = this.writer.finish();
      if (bytes.length > this.maxMessageBytes) {
        // Only series definitions, events or topology can make a chunk this large.
        this.nextSequence--;
        this.countDrop('oversized');
        this.logger.warn('ingest message larger than maxMessageBytes dropped', { bytes: bytes.length, maxMessageBytes: this.maxMessageBytes });
      } else {
        this.counters.batches++;
        this.enqueue({ sequence, bytes, written: false });
      }
      from = to;
      first = false;
    } while (from < total);
    this.pump();
  }

  /** Resolves true once everything sent so far is acknowledged, false after `timeoutMs`. */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.buffered === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.flushWaiters = this.flushWaiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      this.flushWaiters.push(waiter);
    });
  }

  /** Closes the stream and the channel. Unacknowledged messages are discarded. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const call = this.call;
    this.call = undefined;
    this.phase = 'down';
    if (call) {
      call.removeAllListeners();
      call.on('error', () => {});
      call.cancel();
    }
    this.client.close();
    for (const w of this.flushWaiters) w();
    this.flushWaiters = [];
  }

  stats(): IngestClientStats {
    return { ...this.counters, dropped: { ...this.counters.dropped }, bufferedBatches: this.buffered, bufferedBytes: this.bufferedBytes, connected: this.phase === 'streaming' };
  }

  // -------------------------------------------------------------------------------------------

  private get buffered(): number {
    return this.buffer.length - this.head;
  }

  private get firstBufferedSequence(): number {
    return this.buffered > 0 ? this.buffer[this.head]!.sequence : this.nextSequence;
  }

  private enqueue(msg: BufferedMessage): void {
    this.buffer.push(msg);
    this.bufferedBytes += msg.bytes.length;
    let droppedAny = false;
    while (this.buffered > 1 && (this.buffered > this.maxBufferBatches || this.bufferedBytes > this.maxBufferBytes)) {
      this.dropHead('buffer-full');
      droppedAny = true;
    }
    if (droppedAny) this.sendRetainedFrom();
  }

  private dropHead(reason: DropReason | undefined): void {
    const msg = this.buffer[this.head]!;
    this.buffer[this.head] = undefined as never;
    this.head++;
    this.bufferedBytes -= msg.bytes.length;
    if (reason) this.countDrop(reason);
    if (this.nextToSend <= msg.sequence) this.nextToSend = msg.sequence + 1;
    this.compact();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.buffer.length) {
      this.buffer.splice(0, this.head);
      this.head = 0;
    }
  }

  private countDrop(reason: DropReason): void {
    this.counters.dropped[reason]++;
    this.selfCounters.dropped?.add(1, { reason });
  }

  /** Tells the server (when connected) that sequences below our oldest message will never come. */
  private sendRetainedFrom(): void {
    if (this.phase !== 'streaming' || !this.call) return;
    this.writer.reset();
    encodeIngestRequest(this.writer, { sourceId: this.options.sourceId, sequence: 0, retainedFrom: this.firstBufferedSequence });
    this.call.write(this.writer.finish());
  }

  private connect(): void {
    if (this.closed) return;
    this.reconnectTimer = undefined;
    const call = this.client.makeBidiStreamRequest(INGEST_METHOD_PATH, raw, raw, this.metadata);
    this.call = call;
    this.phase = 'hello';
    this.waitingForDrain = false;
    call.on('data', (bytes: Buffer) => {
      if (this.call !== call) return;
      let ack: IngestAck;
      try {
        ack = decodeIngestAck(bytes);
      } catch {
        this.logger.warn('ingest server sent an unreadable ack');
        return;
      }
      this.onAck(ack);
    });
    call.on('error', (err: ServiceError) => this.onStreamEnd(call, err));
    call.on('end', () => this.onStreamEnd(call, undefined));
    call.on('drain', () => {
      if (this.call !== call) return;
      this.waitingForDrain = false;
      this.pump();
    });
    // hello: every series we know, and the oldest sequence we still hold
    this.writer.reset();
    encodeIngestRequest(this.writer, {
      sourceId: this.options.sourceId,
      sequence: 0,
      retainedFrom: this.firstBufferedSequence,
      series: [...this.knownSeries.values()],
    });
    call.write(this.writer.finish());
  }

  private onAck(ack: IngestAck): void {
    if (ack.maxMessageBytes > 0 && ack.maxMessageBytes < this.maxMessageBytes) {
      this.logger.info('ingest server limits messages; splitting batches below its limit', { maxMessageBytes: ack.maxMessageBytes });
      this.maxMessageBytes = ack.maxMessageBytes;
    }
    let acked = 0;
    while (this.buffered > 0 && this.buffer[this.head]!.sequence <= ack.ackedSequence) {
      this.dropHead(undefined);
      acked++;
    }
    if (acked > 0) {
      this.counters.acked += acked;
      this.selfCounters.acked?.add(acked);
    }
    if (this.phase === 'hello') {
      this.phase = 'streaming';
      this.attempt = 0;
      this.authFailures = 0;
      this.lastError = undefined;
      if (this.dropFirstUnacked && this.buffered > 0) {
        this.dropHead(this.dropFirstUnacked);
        this.dropFirstUnacked = undefined;
        this.sendRetainedFrom();
      }
      // resend everything not acknowledged
      this.nextToSend = this.firstBufferedSequence;
      // drop what no longer fits the server's limit
      let dropped = false;
      while (this.buffered > 0 && this.buffer[this.head]!.bytes.length > this.maxMessageBytes) {
        this.dropHead('oversized');
        dropped = true;
      }
      if (dropped) this.sendRetainedFrom();
      this.nextToSend = this.firstBufferedSequence;
      this.pump();
    }
    if (this.buffered === 0 && this.flushWaiters.length > 0) {
      const waiters = this.flushWaiters;
      this.flushWaiters = [];
      for (const w of waiters) w();
    }
  }

  private pump(): void {
    const call = this.call;
    if (!call || this.phase !== 'streaming' || this.waitingForDrain) return;
    while (this.nextToSend < this.nextSequence && this.buffered > 0) {
      const index = this.head + (this.nextToSend - this.buffer[this.head]!.sequence);
      const msg = this.buffer[index];
      if (!msg) break;
      this.nextToSend++;
      if (msg.written) this.counters.resent++;
      msg.written = true;
      this.counters.sent++;
      this.selfCounters.sent?.add(1);
      if (!call.write(msg.bytes)) {
        this.waitingForDrain = true;
        return;
      }
    }
  }

  private onStreamEnd(call: ClientDuplexStream<Buffer, Buffer>, err: ServiceError | undefined): void {
    if (this.call !== call) return;
    this.call = undefined;
    this.phase = 'down';
    call.removeAllListeners();
    call.on('error', () => {});
    if (this.closed) return;
    if (err) {
      const code = err.code;
      const details = err.details ?? err.message;
      if (code === status.INVALID_ARGUMENT) this.dropFirstUnacked = 'rejected';
      else if (code === status.RESOURCE_EXHAUSTED && /maxMessageBytes|larger than max/.test(details)) this.dropFirstUnacked = 'oversized';
      const errorCode = code === status.UNAUTHENTICATED ? ErrorCode.AUTH_FAILED : code === status.RESOURCE_EXHAUSTED ? ErrorCode.LIMIT_EXCEEDED : ErrorCode.CONNECTION_FAILED;
      this.lastError = new SextantError(errorCode, `ingest stream to ${this.options.address} ended: ${status[code] ?? code}: ${details}`, {
        hint:
          code === status.UNAUTHENTICATED
            ? 'check that the agent\'s token is one of the server\'s tokens'
            : code === status.UNAVAILABLE
              ? 'is the server running and reachable? the agent keeps buffering and retries'
              : 'the agent retries with backoff',
      });
      if (code === status.UNAUTHENTICATED) {
        // A wrong token does not fix itself in 100 ms: slow down to a rate that does not flood the
        // server's log, and say why (first time, then once a minute).
        this.authFailures++;
        const delay = Math.min(AUTH_RETRY_MAX_MS, AUTH_RETRY_INITIAL_MS * 2 ** Math.min(this.authFailures - 1, 10));
        const now = Date.now();
        if (now - this.authLoggedAt >= 60_000) {
          this.authLoggedAt = now;
          this.logger.error(`the server at ${this.options.address} refused this agent's token (${this.authFailures} time${this.authFailures === 1 ? '' : 's'}); retrying in ${Math.round(delay / 1000)} s, data stays buffered`, {
            hint: 'give the agent one of the server\'s tokens (--token or server.token)',
          });
        }
        this.scheduleReconnect(delay);
        return;
      }
      this.logger.warn('ingest stream ended', { code, details });
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(delayMs?: number): void {
    if (this.closed || this.reconnectTimer) return;
    if (delayMs !== undefined) {
      this.counters.retries++;
      this.selfCounters.retries?.add(1);
      this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
      return;
    }
    const base = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.min(this.attempt, 30));
    const delay = base * (1 - this.backoff.jitter * Math.random());
    this.attempt++;
    this.counters.retries++;
    this.selfCounters.retries?.add(1);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }
}
