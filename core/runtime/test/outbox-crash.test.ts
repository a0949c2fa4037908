/**
 * A real crash: a runtime in a child process with a dataDir delivers to an HTTP receiver in this
 * process, is killed with SIGKILL in the middle of delivering, and is started again on the same
 * dataDir. Every idempotency key must arrive at least once; the receiver, which drops duplicates
 * by key like a real one, must have acted on every update exactly once and in order per incident.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TestReceiver, sequencesByIncident } from './outbox-support.js';

const here = join(dirname(fileURLToPath(import.meta.url)), 'outbox-crash');
const children: ChildProcess[] = [];
const receiver = new TestReceiver();
const dataDir = mkdtempSync(join(tmpdir(), 'sextant-outbox-crash-'));

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await receiver.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function startChild(publish: number): { child: ChildProcess; output: () => string; waitFor: (re: RegExp) => Promise<void> } {
  const child = spawn(process.execPath, ['--conditions=@sextant/source', '--import', './register.mjs', 'child.ts'], {
    cwd: here,
    env: { ...process.env, OUTBOX_DATA_DIR: dataDir, OUTBOX_RECEIVER_URL: receiver.url, OUTBOX_PUBLISH: String(publish) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const waitFor = async (re: RegExp) => {
    const deadline = Date.now() + 20_000;
    while (!re.test(output)) {
      if (child.exitCode !== null) throw new Error(`child exited with ${child.exitCode}: ${output}`);
      if (Date.now() > deadline) throw new Error(`child did not print ${re}: ${output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, output: () => output, waitFor };
}

async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('outbox crash', () => {
  it('loses nothing when the process is SIGKILLed mid-delivery and started again', async () => {
    const total = 60;
    await receiver.start();
    await receiver.setMode('fail-500');
    const first = startChild(total);
    await first.waitFor(/published 60/);
    await until('failed attempts', () => receiver.requests.length >= 3);
    await receiver.setMode('ok');
    await until('some deliveries', () => receiver.accepted.length >= 10);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const acceptedBeforeCrash = receiver.accepted.length;
    expect(acceptedBeforeCrash).toBeLessThan(total); // the kill really was mid-delivery

    const second = startChild(0);
    await second.waitFor(/ready restored=\d+/);
    const restored = Number(/restored=(\d+)/.exec(second.output())![1]);
    expect(restored).toBeGreaterThanOrEqual(total - acceptedBeforeCrash);
    await until('every key at the receiver', () => receiver.accepted.length === total);

    const expectedKeys = Array.from({ length: total }, (_, i) => `crash-${'abc'[i % 3]}:${Math.floor(i / 3) + 1}`).sort();
    expect(receiver.accepted.map((r) => r.key).sort()).toEqual(expectedKeys);
    // At-least-once: a delivery the crash interrupted before it was marked may come twice, never more.
    for (const d of receiver.duplicates) expect(receiver.duplicates.filter((x) => x.key === d.key)).toHaveLength(1);
    for (const [id, seqs] of sequencesByIncident(receiver.accepted)) expect(seqs, id).toEqual(Array.from({ length: total / 3 }, (_, i) => i + 1));
    second.child.kill('SIGKILL');
  });
});
