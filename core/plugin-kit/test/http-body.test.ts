import { describe, expect, it } from 'vitest';
import { readBodyCapped } from '../src/index.js';

/** A body that never ends (a hostile or broken server), counting what was pulled from it. */
function endless(chunk: number) {
  let pulled = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += chunk;
      controller.enqueue(new Uint8Array(chunk).fill(65));
    },
    cancel() {
      cancelled = true;
    },
  });
  return { response: new Response(body), pulled: () => pulled, cancelled: () => cancelled };
}

describe('readBodyCapped', () => {
  it('reads at most maxBytes of an endless body and cancels the rest', async () => {
    const s = endless(1000);
    const bytes = await readBodyCapped(s.response, 4097);
    expect(bytes.byteLength).toBe(4097);
    expect(s.cancelled()).toBe(true);
    expect(s.pulled()).toBeLessThan(10_000);
  });

  it('returns a small body whole, and nothing for no body or a zero limit', async () => {
    expect(new TextDecoder().decode(await readBodyCapped(new Response('Active connections: 1'), 4097))).toBe('Active connections: 1');
    expect((await readBodyCapped(new Response(null), 10)).byteLength).toBe(0);
    expect((await readBodyCapped(new Response('abc'), 0)).byteLength).toBe(0);
  });
});
