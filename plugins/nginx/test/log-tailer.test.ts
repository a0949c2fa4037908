import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFile, mkdtemp, rename, rm, truncate, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogTailer } from '../src/index.js';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sextant-tail-'));
  path = join(dir, 'access.log');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function tailer(fromStart = false, maxLineBytes = 1024) {
  return new LogTailer(path, { fromStart, maxLineBytes, maxReadBytes: 1 << 30, chunkBytes: 4096 });
}

async function poll(t: LogTailer) {
  const lines: string[] = [];
  const report = await t.poll((text, s, e) => lines.push(text.slice(s, e)));
  return { lines, report };
}

const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => `line ${from + i}\n`).join('');

describe('LogTailer', () => {
  it('reads only lines appended after start unless fromStart', async () => {
    await writeFile(path, lines(0, 3));
    const t = tailer();
    await t.start();
    await appendFile(path, lines(3, 2));
    expect((await poll(t)).lines).toEqual(['line 3', 'line 4']);
    const all = tailer(true);
    await all.start();
    expect((await poll(all)).lines).toHaveLength(5);
    await t.close();
    await all.close();
  });

  it('holds a partial last line until its newline arrives, across many chunks', async () => {
    await writeFile(path, '');
    const t = tailer();
    await t.start();
    await appendFile(path, lines(0, 2000) + 'half a li');
    const first = await poll(t);
    expect(first.lines).toHaveLength(2000);
    expect(first.lines[1999]).toBe('line 1999');
    await appendFile(path, 'ne\n');
    expect((await poll(t)).lines).toEqual(['half a line']);
    await t.close();
  });

  it('follows a rename rotation: drains the old file, then reads the new one from its start', async () => {
    await writeFile(path, '');
    const t = tailer();
    await t.start();
    await appendFile(path, lines(0, 2));
    await rename(path, `${path}.1`);
    await appendFile(`${path}.1`, lines(2, 1)); // the writer still has the old file open
    expect((await poll(t)).lines).toEqual(['line 0', 'line 1', 'line 2']); // not recreated yet: keep reading the old file
    await appendFile(`${path}.1`, lines(3, 1));
    await writeFile(path, lines(4, 2)); // the writer reopened
    const { lines: got, report } = await poll(t);
    expect(got).toEqual(['line 3', 'line 4', 'line 5']);
    expect(report.renames).toBe(1);
    await t.close();
  });

  it('follows copytruncate: starts again at 0 when the file shrinks', async () => {
    await writeFile(path, '');
    const t = tailer();
    await t.start();
    await appendFile(path, lines(0, 50));
    expect((await poll(t)).lines).toHaveLength(50);
    await copyFile(path, `${path}.1`);
    await truncate(path, 0);
    await appendFile(path, lines(100, 3));
    const { lines: got, report } = await poll(t);
    expect(got).toEqual(['line 100', 'line 101', 'line 102']);
    expect(report.truncations).toBe(1);
    await t.close();
  });

  it('skips and counts lines longer than maxLineBytes, keeping the lines around them', async () => {
    await writeFile(path, '');
    const t = tailer(false, 300);
    await t.start();
    await appendFile(path, `short 1\n${'x'.repeat(10_000)}\nshort 2\n${'y'.repeat(500)}\nshort 3\n`);
    const { lines: got, report } = await poll(t);
    expect(got).toEqual(['short 1', 'short 2', 'short 3']);
    expect(report.oversized).toBe(2);
    await t.close();
  });

  it('reports a missing file, and reads it whole once it appears', async () => {
    const t = tailer();
    await t.start();
    expect((await poll(t)).report.missing).toBe(true);
    await writeFile(path, lines(0, 2));
    expect((await poll(t)).lines).toEqual(['line 0', 'line 1']);
    await t.close();
    await t.close(); // idempotent
  });

  it('stops at maxReadBytes and continues next time', async () => {
    await writeFile(path, '');
    const t = new LogTailer(path, { fromStart: false, maxLineBytes: 256, maxReadBytes: 4096, chunkBytes: 1024 });
    await t.start();
    await appendFile(path, lines(0, 1000));
    const first = await poll(t);
    expect(first.report.backlog).toBe(true);
    let total = first.lines.length;
    for (let i = 0; i < 10 && total < 1000; i++) total += (await poll(t)).lines.length;
    expect(total).toBe(1000);
    await t.close();
  });
});
