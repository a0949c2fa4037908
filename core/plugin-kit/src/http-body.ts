/**
 * Reading a response body from a server a plugin does not control: at most `maxBytes` bytes are
 * read, then the stream is cancelled, so a huge or endless body (a misconfigured URL, a hostile
 * server) costs bounded memory and time. Call with `limit + 1` to tell "exactly at the limit" from
 * "too large".
 */
export async function readBodyCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  if (!response.body || maxBytes <= 0) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= maxBytes) {
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  const out = new Uint8Array(Math.min(size, maxBytes));
  let at = 0;
  for (const chunk of chunks) {
    const take = Math.min(chunk.byteLength, out.length - at);
    out.set(chunk.subarray(0, take), at);
    at += take;
    if (at === out.length) break;
  }
  return out;
}
