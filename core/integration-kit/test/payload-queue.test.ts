import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskPayloadQueue, MemoryPayloadQueue, type PayloadQueue } from '../src/payload-queue.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sextant-payload-queue-'));
  dirs.push(d);
  return d;
}
const payload = (n: number, size = 100) => new Uint8Array(size).fill(n % 256);
function drain(q: PayloadQueue, max = Infinity): number[] {
  const out: number[] = [];
  for (let p = q.peek(); p && out.length < max; p = q.peek()) {
    out.push(p[0]);
    q.ack();
  }
  return out;
}

describe('DiskPayloadQueue', () => {
  it('is FIFO across segments and survives a restart at the acknowledged position', () => {
    const dir = tempDir();
    const drops: unknown[] = [];
    const q = new DiskPayloadQueue(dir, 1 << 20, 1000, (...a) => drops.push(a));
    for (let i = 0; i < 30; i++) q.push(payload(i));
    expect(readdirSync(dir).filter((f) => f.endsWith('.seg')).length).toBeGreaterThan(1);
    expect(drain(q, 12)).toEqual([...Array(12).keys()]);
    q.peek(); // peeked but not acknowledged: sent again after a restart
    q.close();
    const again = new DiskPayloadQueue(dir, 1 << 20, 1000, (...a) => drops.push(a));
    expect(again.bytes).toBe(18 * 108);
    expect(again.length).toBe(18);
    again.push(payload(99));
    expect(again.length).toBe(19);
    expect(drain(again)).toEqual([...[...Array(18).keys()].map((i) => i + 12), 99]);
    expect(again.bytes).toBe(0);
    expect(again.length).toBe(0);
    again.close();
    expect(drops).toEqual([]);
    // fully read segments are deleted
    expect(readdirSync(dir).filter((f) => f.endsWith('.seg')).length).toBe(1);
  });

  it('drops the oldest whole segments beyond maxBytes and counts them', () => {
    const drops: [string, number, number][] = [];
    const q = new DiskPayloadQueue(tempDir(), 2000, 1000, (r, n, b) => drops.push([r, n, b]));
    for (let i = 0; i < 40; i++) q.push(payload(i));
    expect(q.bytes).toBeLessThanOrEqual(2000);
    const left = drain(q);
    expect(left.at(-1)).toBe(39);
    expect(drops.reduce((a, [, n]) => a + n, 0) + left.length).toBe(40);
    expect(drops.every(([r]) => r === 'overflow')).toBe(true);
    q.close();
  });

  it('skips a torn record at the end of a segment (crash mid-write) and counts it', () => {
    const dir = tempDir();
    const q = new DiskPayloadQueue(dir, 1 << 20, 1 << 16, () => undefined);
    q.push(payload(1));
    q.push(payload(2));
    q.close();
    const seg = readdirSync(dir).find((f) => f.endsWith('.seg'))!;
    appendFileSync(join(dir, seg), Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 9, 9]));
    const drops: [string, number, number][] = [];
    const again = new DiskPayloadQueue(dir, 1 << 20, 1 << 16, (r, n, b) => drops.push([r, n, b]));
    again.push(payload(3));
    expect(drain(again)).toEqual([1, 2, 3]);
    expect(drops).toEqual([['corrupt', 1, 10]]);
    again.close();
  });
});

describe('MemoryPayloadQueue', () => {
  it('is FIFO and drops the oldest beyond maxBytes', () => {
    const drops: number[] = [];
    const q = new MemoryPayloadQueue(1080, (_r, n) => drops.push(n));
    for (let i = 0; i < 15; i++) q.push(payload(i));
    expect(drops.reduce((a, b) => a + b, 0)).toBe(5);
    expect(drain(q)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });
});

describe('a payload dropped while it is being sent', () => {
  it.each(['memory', 'disk'] as const)('%s: ack() after the in-flight payload was dropped removes nothing else', (kind) => {
    const drops: [string, number, number][] = [];
    const onDrop = (reason: string, n: number, b: number) => void drops.push([reason, n, b]);
    const q = kind === 'memory' ? new MemoryPayloadQueue(350, onDrop) : new DiskPayloadQueue(tempDir(), 350, 110, onDrop);
    q.push(payload(1));
    expect(q.peek()?.[0]).toBe(1); // the sender has it in flight
    for (let i = 2; i <= 5; i++) q.push(payload(i)); // the bound drops the oldest, the in-flight one included
    const dropped = drops.reduce((a, [, n]) => a + n, 0);
    expect(dropped).toBeGreaterThan(0);
    expect(q.length).toBe(5 - dropped);
    q.ack(); // the send of payload 1 succeeded: nothing that was never sent may go with it
    expect(q.length).toBe(5 - dropped);
    expect(drain(q)).toEqual([...Array(5 - dropped).keys()].map((i) => i + 1 + dropped));
    q.close();
  });
});
