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
 * - Every message stays below `maxMessageBytes` (lowered to the server's limit once it answers):
 *   series definitions, events, topology and samples are split across as many messages as needed.
 *   After a reconnect to a restarted (or unidentified) server the client announces all series it
 *   knows again, in messages below the limit, before it resends data. Only an item that alone exceeds the limit is dropped (counted
 *   and logged, never silently).
 * - What the server refuses from this source (series over its limit, samples of series it never
 *   accepted) comes back in its acks and shows in `stats().refusedByServer` and the log.
 * - `send()` never throws after construction and never blocks; problems show in `stats()` and
 *   `lastError`.
 */
import { Event as WireEvent, TopologyUpdate as WireTopologyUpdate } from '../gen/sextant/common/v1/common.js';
import { eventToWire } from '../model-wire.js';
import { topologyToWire } from '../topology-wire.js';
import { Client, Metadata, status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import type { Logger, SampleBatch, SelfCounter, SelfMetrics, SextantEvent, TopologyUpdate } from '@sextant/plugin-api';
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import { backoffDelayMs } from '@sextant/plugin-kit';
import { BYTES_PER_SAMPLE, IngestRequestDecoder, decodeIngestAck, encodeIngestRequest, type IngestAck, type IngestRequestInput, type SeriesDefinition } from './ingest-codec.js';
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
  /** Samples handed to send(). */
  samples: number;
  /** Message writes to a stream, resends included. */
  sent: number;
  /** Of `sent`, writes of a message that had been written before (after a reconnect). */
  resent: number;
  /** Messages the server acknowledged. */
  acked: number;
  /** Messages given up on, by reason. */
  dropped: Record<DropReason, number>;
  /** Samples in the messages given up on, by reason. */
  droppedSamples: Record<DropReason, number>;
  /** Series definitions, events and topology updates not sent because one alone exceeds `maxMessageBytes`. */
  droppedItems: { series: number; events: number; topology: number };
  /** Series definitions announced again after reconnects (control messages, not counted in `sent`). */
  reannouncedSeries: number;
  /**
   * What the server reported refusing from this source, summed over server restarts: series
   * definitions (its series limit, its store full) and samples of series it never accepted.
   * Always 0 against servers that do not report refusals.
   */
  refusedByServer: { series: number; samples: number };
  /** Reconnect attempts after a failed or broken stream. */
  retries: number;
  bufferedBatches: number;
  bufferedBytes: number;
  connected: boolean;
}

interface BufferedMessage {
  readonly sequence: number;
  readonly bytes: Buffer;
  /** Samples in the message, for counting what a drop loses. */
  readonly samples: number;
  /** Local ids of the series the message defines: announced again if the message is dropped. */
  readonly defines: Uint32Array | undefined;
  written: boolean;
}

/** Bytes kept free in a message for the sample field's tags and length prefixes. */
const SAMPLE_FRAMING_BYTES = 32;
/** A message is not started for fewer samples than this while more remain (avoids slivers). */
const MIN_SAMPLES_PER_CHUNK = 256;
const EMPTY_IDS = new Uint32Array(0);

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
  /** Local ids to announce (control messages) before any buffered data is written. */
  private announceQueue: number[] = [];
  private announceAt = 0;
  /** Last cumulative refusal counts the current server reported (to detect increases and restarts). */
  private serverReported = { series: 0, samples: 0 };
  private refusalLoggedAt = Number.NEGATIVE_INFINITY;
  private dropsLoggedAt = Number.NEGATIVE_INFINITY;
  /** The oldest sequence the last hello said we hold. */
  private helloRetainedFrom = 0;
  /** Whether any server has answered a hello yet (before that, every known series is still buffered). */
  private helloAnswered = false;
  /** `serverInstance` of the last hello answer (0: none, or a server that does not send it). */
  private serverInstance = 0;
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
    this.counters = {
      batches: 0,
      samples: 0,
      sent: 0,
      resent: 0,
      acked: 0,
      dropped: { 'buffer-full': 0, oversized: 0, rejected: 0 },
      droppedSamples: { 'buffer-full': 0, oversized: 0, rejected: 0 },
      droppedItems: { series: 0, events: 0, topology: 0 },
      reannouncedSeries: 0,
      refusedByServer: { series: 0, samples: 0 },
      retries: 0,
      bufferedBatches: 0,
      bufferedBytes: 0,
      connected: false,
    };
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
   * `[0, batch.length)`, events and topology updates as one or more numbered messages, each below
   * `maxMessageBytes`; definitions always travel in the same or an earlier message than samples
   * of their series. The batch is copied: the caller may reuse its arrays right away.
   */
  send(newSeries: readonly SeriesDefinition[], batch?: SampleBatch, events?: readonly SextantEvent[], topology?: readonly TopologyUpdate[]): void {
    if (this.closed) return;
    this.counters.samples += batch?.length ?? 0;
    this.build(
      newSeries,
      batch,
      (events ?? []).map((e) => WireEvent.encode(eventToWire(e)).finish()),
      (topology ?? []).map((t) => WireTopologyUpdate.encode(topologyToWire(t)).finish()),
    );
    this.pump();
  }

  /** Splits what one send() (or one re-split message) carries into numbered, buffered messages. */
  private build(newSeries: readonly SeriesDefinition[], batch: SampleBatch | undefined, events: readonly Uint8Array[], topology: readonly Uint8Array[]): void {
    // Builder and buffer share this.writer: a message is finished (copied out) before it is queued.
    const message = new MessageBuilder(this.writer, this.options.sourceId, this.maxMessageBytes, this.nextSequence, (bytes, samples, defines) => {
      const sequence = this.nextSequence++;
      this.counters.batches++;
      this.enqueue({ sequence, bytes, samples, defines, written: false });
    });
    for (const def of newSeries) {
      if (message.append({ series: [def] }, def.localId)) this.knownSeries.set(def.localId, def);
      else this.dropItem('series', { metric: def.descriptor.metric, localId: def.localId });
    }
    for (const bytes of events) if (!message.append({ events: [bytes] })) this.dropItem('events', { bytes: bytes.length });
    for (const bytes of topology) if (!message.append({ topology: [bytes] })) this.dropItem('topology', { bytes: bytes.length });
    const total = batch?.length ?? 0;
    let from = 0;
    while (batch && from < total) {
      let room = Math.floor((this.maxMessageBytes - message.size - SAMPLE_FRAMING_BYTES) / BYTES_PER_SAMPLE);
      if (room < Math.min(MIN_SAMPLES_PER_CHUNK, total - from) && !message.isEmpty) {
        message.emit();
        room = Math.floor((this.maxMessageBytes - message.size - SAMPLE_FRAMING_BYTES) / BYTES_PER_SAMPLE);
      }
      const to = Math.min(total, from + Math.max(1, room));
      message.appendSamples(batch, from, to);
      from = to;
    }
    message.emit(true);
  }

  /**
   * After the server announced a smaller limit: splits again every buffered message that was
   * never written and no longer fits (with it, all later ones, keeping sequences consecutive).
   * Messages already written keep their numbers: the server may have accepted them.
   */
  private resplitUnwritten(): void {
    let first = this.head;
    while (first < this.buffer.length && this.buffer[first]!.written) first++;
    let fits = true;
    for (let i = first; i < this.buffer.length && fits; i++) fits = this.buffer[i]!.bytes.length <= this.maxMessageBytes;
    if (fits) return;
    const pending = this.buffer.splice(first);
    this.nextSequence = pending[0]!.sequence;
    const decoder = new IngestRequestDecoder();
    for (const msg of pending) {
      this.bufferedBytes -= msg.bytes.length;
      this.counters.batches--;
    }
    for (const msg of pending) {
      const d = decoder.decode(msg.bytes);
      this.build(d.series, d.samples.length > 0 ? d.samples : undefined, d.events, d.topology);
    }
    this.logger.info('ingest: split buffered messages again below the server\'s limit', { messages: pending.length, maxMessageBytes: this.maxMessageBytes });
  }

  private dropItem(kind: 'series' | 'events' | 'topology', fields: Record<string, unknown>): void {
    this.counters.droppedItems[kind]++;
    this.selfCounters.dropped?.add(1, { reason: `oversized-${kind}` });
    this.logger.warn(`ingest: one ${kind === 'series' ? 'series definition' : kind === 'events' ? 'event' : 'topology update'} alone exceeds maxMessageBytes; not sent`, {
      ...fields,
      maxMessageBytes: this.maxMessageBytes,
      hint: 'shorten its attributes, or raise the server\'s ingest maxMessageBytes',
    });
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
    return {
      ...this.counters,
      dropped: { ...this.counters.dropped },
      droppedSamples: { ...this.counters.droppedSamples },
      droppedItems: { ...this.counters.droppedItems },
      refusedByServer: { ...this.counters.refusedByServer },
      bufferedBatches: this.buffered, bufferedBytes: this.bufferedBytes, connected: this.phase === 'streaming' };
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
    if (reason) {
      this.countDrop(reason);
      this.counters.droppedSamples[reason] += msg.samples;
      this.logDrops(reason);
      // its definitions are not lost: they go out again as control messages
      if (msg.defines) for (const id of msg.defines) if (this.knownSeries.has(id)) this.announceQueue.push(id);
    }
    if (this.nextToSend <= msg.sequence) this.nextToSend = msg.sequence + 1;
    this.compact();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.buffer.length) {
      this.buffer.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Says (at most once a minute) how much the client itself has given up on, and why. */
  private logDrops(latest: DropReason): void {
    const now = Date.now();
    if (now - this.dropsLoggedAt < 60_000) return;
    this.dropsLoggedAt = now;
    const { dropped, droppedSamples } = this.counters;
    this.logger.warn(`ingest: this agent gave up on ${dropped[latest]} messages (${droppedSamples[latest]} samples) so far because of ${latest}`, {
      dropped: { ...dropped },
      droppedSamples: { ...droppedSamples },
      hint:
        latest === 'buffer-full'
          ? 'the server was unreachable or slower than this agent for longer than the buffer holds: raise maxBufferBytes / maxBufferBatches, or check the server'
          : latest === 'oversized'
            ? 'the server lowered its maxMessageBytes below messages already sent once'
            : 'the server refused a message as malformed; see the server\'s log',
    });
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
      let ack: Required<IngestAck>;
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
    // hello: the oldest sequence we still hold. The series we know follow once the server has
    // answered with its size limit (see onAck), split below it.
    this.writer.reset();
    this.helloRetainedFrom = this.firstBufferedSequence;
    encodeIngestRequest(this.writer, { sourceId: this.options.sourceId, sequence: 0, retainedFrom: this.helloRetainedFrom });
    call.write(this.writer.finish());
  }

  private onAck(ack: Required<IngestAck>): void {
    if (ack.maxMessageBytes > 0 && ack.maxMessageBytes < this.maxMessageBytes) {
      this.logger.info('ingest server limits messages; splitting batches below its limit', { maxMessageBytes: ack.maxMessageBytes });
      this.maxMessageBytes = ack.maxMessageBytes;
    }
    // another server instance counts refusals from 0
    if (ack.serverInstance !== 0 && ack.serverInstance !== this.serverInstance) this.serverReported = { series: 0, samples: 0 };
    this.noteServerRefusals(ack);
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
      }
      // resend everything not acknowledged
      this.nextToSend = this.firstBufferedSequence;
      // After a reconnect to a server that may not know our series (another instance, or one
      // that does not say), announce every known series again before any data, except those that
      // unacknowledged messages define (they are resent).
      const sameServer = ack.serverInstance !== 0 && ack.serverInstance === this.serverInstance;
      this.serverInstance = ack.serverInstance;
      if (this.helloAnswered && !sameServer) this.queueReannouncement();
      this.helloAnswered = true;
      this.resplitUnwritten();
      // drop what no longer fits the server's limit
      while (this.buffered > 0 && this.buffer[this.head]!.bytes.length > this.maxMessageBytes) this.dropHead('oversized');
      // Whatever was dropped since the hello (here, or from a full buffer while it was on its way)
      // will never come: tell the server, or it waits for it and acknowledges nothing more.
      if (this.firstBufferedSequence > this.helloRetainedFrom) this.sendRetainedFrom();
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
    if (!this.writeAnnouncements(call)) return;
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

  private queueReannouncement(): void {
    const inBuffer = new Set<number>();
    for (let i = this.head; i < this.buffer.length; i++) {
      const defines = this.buffer[i]!.defines;
      if (defines) for (const id of defines) inBuffer.add(id);
    }
    const queue: number[] = [];
    for (const id of this.knownSeries.keys()) if (!inBuffer.has(id)) queue.push(id);
    this.announceQueue = queue;
    this.announceAt = 0;
  }

  /**
   * Writes queued series definitions as control messages (sequence 0) below the message limit.
   * Returns false while the stream wants to drain first.
   */
  private writeAnnouncements(call: ClientDuplexStream<Buffer, Buffer>): boolean {
    const w = this.writer;
    while (this.announceAt < this.announceQueue.length) {
      w.reset();
      encodeIngestRequest(w, { sourceId: this.options.sourceId, sequence: 0, retainedFrom: 0 });
      const headerSize = w.pos;
      let count = 0;
      while (this.announceAt < this.announceQueue.length) {
        const def = this.knownSeries.get(this.announceQueue[this.announceAt]!);
        if (!def) {
          this.announceAt++;
          continue;
        }
        const before = w.pos;
        encodeIngestRequest(w, { sourceId: '', sequence: 0, retainedFrom: 0, series: [def] });
        if (w.pos > this.maxMessageBytes) {
          w.pos = before;
          if (before > headerSize) break;
          // alone too large for a limit the server lowered after it was accepted
          this.announceAt++;
          this.knownSeries.delete(def.localId);
          this.dropItem('series', { metric: def.descriptor.metric, localId: def.localId });
          continue;
        }
        this.announceAt++;
        count++;
      }
      if (count === 0) break;
      this.counters.reannouncedSeries += count;
      if (!call.write(w.finish())) {
        this.waitingForDrain = true;
        return false;
      }
    }
    this.announceQueue = [];
    this.announceAt = 0;
    return true;
  }

  /** Turns the server's cumulative refusal counts into our totals; logs increases once a minute. */
  private noteServerRefusals(ack: Required<IngestAck>): void {
    const last = this.serverReported;
    // counts below the last ones: a restarted server counting from 0
    const newSeries = ack.refusedSeries >= last.series ? ack.refusedSeries - last.series : ack.refusedSeries;
    const newSamples = ack.unknownSeriesSamples >= last.samples ? ack.unknownSeriesSamples - last.samples : ack.unknownSeriesSamples;
    this.serverReported = { series: ack.refusedSeries, samples: ack.unknownSeriesSamples };
    if (newSeries === 0 && newSamples === 0) return;
    const refused = this.counters.refusedByServer;
    refused.series += newSeries;
    refused.samples += newSamples;
    this.selfCounters.dropped?.add(newSamples, { reason: 'server-unknown-series' });
    const now = Date.now();
    if (now - this.refusalLoggedAt < 60_000) return;
    this.refusalLoggedAt = now;
    this.logger.warn(`the server at ${this.options.address} refused ${refused.series} series definitions and ${refused.samples} samples of this agent so far`, {
      refusedSeries: refused.series,
      refusedSamples: refused.samples,
      hint: 'the server keeps at most ingest.maxSeriesPerSource series per agent (and store.maxSeries in total): remove high-cardinality attributes here, or raise the server\'s limits',
    });
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
        const delay = backoffDelayMs(this.authFailures, { initialMs: AUTH_RETRY_INITIAL_MS, maxMs: AUTH_RETRY_MAX_MS, jitter: 0 });
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
    this.attempt++;
    const delay = backoffDelayMs(this.attempt, this.backoff);
    this.counters.retries++;
    this.selfCounters.retries?.add(1);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }
}

/**
 * Packs items into messages below a size limit: each item is encoded straight into the writer and
 * taken back (the writer rewound) if it does not fit, which closes the message and starts the
 * next one. Sequences are consecutive from `firstSequence`, one per message handed to `onMessage`.
 */
class MessageBuilder {
  private sequence: number;
  private headerSize = 0;
  private items = 0;
  private samples = 0;
  private defines: number[] = [];
  private emittedAny = false;

  constructor(
    private readonly w: ProtoWriter,
    private readonly sourceId: string,
    private readonly limit: number,
    firstSequence: number,
    private readonly onMessage: (bytes: Buffer, samples: number, defines: Uint32Array | undefined) => void,
  ) {
    this.sequence = firstSequence;
    this.begin();
  }

  get size(): number {
    return this.w.pos;
  }

  get isEmpty(): boolean {
    return this.items === 0;
  }

  /** Appends one item; returns false (and appends nothing) if it alone exceeds the limit. */
  append(part: Omit<IngestRequestInput, 'sourceId' | 'sequence' | 'retainedFrom'>, definesId?: number): boolean {
    for (let attempt = 0; attempt < 2; attempt++) {
      const before = this.w.pos;
      encodeIngestRequest(this.w, { sourceId: '', sequence: 0, retainedFrom: 0, ...part });
      if (this.w.pos <= this.limit) {
        this.items++;
        if (definesId !== undefined) this.defines.push(definesId);
        return true;
      }
      this.w.pos = before;
      if (this.isEmpty) return false;
      this.emit();
    }
    return false;
  }

  /** Appends samples `[from, to)`; the caller has checked that they fit. */
  appendSamples(batch: SampleBatch, from: number, to: number): void {
    encodeIngestRequest(this.w, { sourceId: '', sequence: 0, retainedFrom: 0, batch, from, to });
    this.items++;
    this.samples += to - from;
  }

  /** Hands the message on and starts the next; `final` also hands on an empty message if none was. */
  emit(final = false): void {
    if (this.isEmpty && (!final || this.emittedAny)) return;
    this.onMessage(this.w.finish(), this.samples, this.defines.length > 0 ? Uint32Array.from(this.defines) : undefined);
    this.emittedAny = true;
    this.sequence++;
    if (!final) this.begin();
  }

  private begin(): void {
    this.w.reset();
    encodeIngestRequest(this.w, { sourceId: this.sourceId, sequence: this.sequence, retainedFrom: 0 });
    this.headerSize = this.w.pos;
    this.items = 0;
    this.samples = 0;
    this.defines = [];
  }
}
