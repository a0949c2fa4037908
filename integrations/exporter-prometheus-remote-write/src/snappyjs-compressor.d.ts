/** Types of snappyjs' compressor module (the package's `compress()` is built on it; @types/snappyjs covers only index.js). */
declare module 'snappyjs/snappy_compressor.js' {
  export class SnappyCompressor {
    constructor(uncompressed: Uint8Array);
    /** Worst-case size of the compressed block, in bytes. */
    maxCompressedLength(): number;
    /** Compresses into `out` (at least maxCompressedLength() long); returns the bytes written. */
    compressToBuffer(out: Uint8Array): number;
  }
}
