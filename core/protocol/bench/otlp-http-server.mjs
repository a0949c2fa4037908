// The measured process of otlp-http.mjs: an IngestServer with a no-op handler and an OtlpHttpReceiver
// (from dist/, so build first; BENCH_DIST=another folder relative to this one, to compare builds). Prints its address on stdout, runs until SIGTERM.
const dist = process.env.BENCH_DIST ?? '../dist';
const { IngestServer, OtlpHttpReceiver } = await import(`${dist}/ingest/index.js`);

let next = 1;
const handler = { onSeries: () => next++, onBatch() {}, onEvents() {}, onTopology() {} };
const ingest = await IngestServer.start({ address: '127.0.0.1:0', insecureLoopback: true, tokens: process.env.TOKEN, handler });
const receiver = await OtlpHttpReceiver.start({ address: '127.0.0.1:0', ingest });
process.stdout.write(`${receiver.address}\n`);
process.on('SIGTERM', async () => {
  await receiver.shutdown();
  await ingest.shutdown(100);
  process.exit(0);
});
