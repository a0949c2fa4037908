/**
 * A TCP server that speaks just enough RESP2 to pass the node-redis handshake and then answers
 * INFO with whatever text the test gives it. A real redis-server never sends NaN, negative memory
 * or garbage lines, so this is the only way to show what the collector does with them (the
 * brief's "bad input" cases); everything else is tested against a real redis-server.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface MisbehavingRedisServer {
  readonly port: number;
  /** The INFO reply to send next (raw text, sent as a bulk string). */
  info: string;
  /** Commands received, upper-cased first word. */
  readonly commands: string[];
  close(): Promise<void>;
}

function bulk(text: string): string {
  return `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
}

/** Extracts complete RESP arrays of bulk strings from `buffer`; returns the commands and the rest. */
function readCommands(buffer: string): { commands: string[][]; rest: string } {
  const commands: string[][] = [];
  let pos = 0;
  outer: while (pos < buffer.length) {
    if (buffer[pos] !== '*') return { commands, rest: '' };
    const headerEnd = buffer.indexOf('\r\n', pos);
    if (headerEnd === -1) break;
    const count = Number(buffer.slice(pos + 1, headerEnd));
    let cursor = headerEnd + 2;
    const args: string[] = [];
    for (let i = 0; i < count; i++) {
      const lenEnd = buffer.indexOf('\r\n', cursor);
      if (lenEnd === -1) break outer;
      const len = Number(buffer.slice(cursor + 1, lenEnd));
      if (buffer.length < lenEnd + 2 + len + 2) break outer;
      args.push(buffer.slice(lenEnd + 2, lenEnd + 2 + len));
      cursor = lenEnd + 2 + len + 2;
    }
    commands.push(args);
    pos = cursor;
  }
  return { commands, rest: buffer.slice(pos) };
}

export async function startMisbehavingRedisServer(info: string): Promise<MisbehavingRedisServer> {
  const sockets = new Set<Socket>();
  const state = { info, commands: [] as string[] };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      const { commands, rest } = readCommands(pending + chunk.toString('latin1'));
      pending = rest;
      for (const args of commands) {
        const name = (args[0] ?? '').toUpperCase();
        const sub = (args[1] ?? '').toUpperCase();
        state.commands.push(name);
        if (name === 'INFO') socket.write(bulk(state.info));
        else if (name === 'SLOWLOG' && sub === 'LEN') socket.write(':0\r\n');
        else if (name === 'SLOWLOG' || name === 'LATENCY') socket.write('*0\r\n');
        else socket.write('+OK\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return Object.assign(state, {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
}
