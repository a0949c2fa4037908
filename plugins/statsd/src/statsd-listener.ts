/**
 * The StatsD listener: one UDP socket and one TCP server on the same host:port. It hands packets
 * (UDP) and complete lines (TCP) to `onText` as strings of newline-separated lines, and reports
 * input it had to cut through `onOversize` — it never throws at a sender and never buffers
 * without bound:
 *
 * - a datagram longer than `maxPacketBytes` is read up to its last newline within the cap; the
 *   rest is dropped (one `onOversize('packet')` per datagram);
 * - a TCP line longer than `maxPacketBytes` is dropped up to its newline (`onOversize('line')`);
 * - beyond `maxConnections` TCP connections, new ones are closed at once.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { ErrorCode, SextantError } from '@sextant/plugin-api';

export interface StatsdListenerOptions {
  readonly listen: string;
  readonly udp: boolean;
  readonly tcp: boolean;
  readonly maxPacketBytes: number;
  readonly maxConnections: number;
  /** SO_RCVBUF of the UDP socket; the kernel caps it at net.core.rmem_max. */
  readonly udpReceiveBufferBytes: number;
}

export interface StatsdListenerHandlers {
  onText(text: string): void;
  onOversize(what: 'packet' | 'line'): void;
}

export function parseListen(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  const port = Number(listen.slice(colon + 1));
  if (!(port >= 0 && port <= 65535)) throw new SextantError(ErrorCode.CONFIG_INVALID, `statsd.listen: port ${port} is out of range`, { hint: 'use a port between 0 and 65535 (8125 is the StatsD default)' });
  return { host: listen.slice(0, colon).replace(/^\[|\]$/g, ''), port };
}

const NEWLINE = 10;

export class StatsdListener {
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly connections = new Set<Socket>();
  private bound: { host: string; port: number } | undefined;

  constructor(
    private readonly options: StatsdListenerOptions,
    private readonly handlers: StatsdListenerHandlers,
  ) {}

  address(): { readonly host: string; readonly port: number } | undefined {
    return this.bound;
  }

  /** Binds TCP first (when enabled) so that port 0 resolves to one port, then UDP on the same port. */
  async listen(): Promise<void> {
    const { host, port } = parseListen(this.options.listen);
    let actual = port;
    try {
      if (this.options.tcp) actual = await this.listenTcp(host, port);
      if (this.options.udp) actual = await this.bindUdp(host, actual);
    } catch (e) {
      await this.close();
      const err = e as NodeJS.ErrnoException;
      throw new SextantError(ErrorCode.START_FAILED, `statsd.listen: cannot listen on ${this.options.listen}: ${err.code ?? err.message}`, {
        hint: err.code === 'EADDRINUSE' ? 'another process (another StatsD server or agent?) uses this port; pick another listen port' : 'check the listen address',
      });
    }
    this.bound = { host, port: actual };
  }

  private listenTcp(host: string, port: number): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    server.maxConnections = this.options.maxConnections;
    this.tcp = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', () => {}); // after listening, errors are per connection
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  }

  private bindUdp(host: string, port: number): Promise<number> {
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: this.options.udpReceiveBufferBytes });
    this.udp = socket;
    socket.on('message', (msg) => this.onDatagram(msg));
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        socket.on('error', () => {}); // a UDP socket's later errors (ICMP) concern no one
        resolve(socket.address().port);
      });
    });
  }

  private onDatagram(msg: Buffer): void {
    if (msg.length <= this.options.maxPacketBytes) {
      this.handlers.onText(msg.toString('utf8'));
      return;
    }
    const cut = msg.lastIndexOf(NEWLINE, this.options.maxPacketBytes - 1);
    this.handlers.onOversize('packet');
    if (cut > 0) this.handlers.onText(msg.toString('utf8', 0, cut));
  }

  private accept(socket: Socket): void {
    this.connections.add(socket);
    let pending = '';
    let discarding = false;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      let text = pending + chunk;
      pending = '';
      if (discarding) {
        const nl = text.indexOf('\n');
        if (nl < 0) return;
        discarding = false;
        text = text.slice(nl + 1);
      }
      const last = text.lastIndexOf('\n');
      const tail = last < 0 ? text : text.slice(last + 1);
      if (last >= 0) this.handlers.onText(text.slice(0, last));
      if (tail.length > this.options.maxPacketBytes) {
        this.handlers.onOversize('line');
        discarding = true;
      } else pending = tail;
    });
    socket.on('end', () => {
      if (pending.length > 0 && !discarding) this.handlers.onText(pending);
      pending = '';
      socket.end();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.connections.delete(socket));
  }

  /** Closes the sockets and every TCP connection. Safe twice and before `listen()`. */
  async close(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    this.bound = undefined;
    for (const c of this.connections) c.destroy();
    this.connections.clear();
    await Promise.all([
      udp
        ? new Promise<void>((resolve) => {
            try {
              udp.close(() => resolve());
            } catch {
              resolve(); // never bound
            }
          })
        : undefined,
      tcp ? new Promise<void>((resolve) => tcp.close(() => resolve())) : undefined,
    ]);
  }
}
