/** The ingest token the cluster benchmark's servers accept and its agents send. */
export const BENCH_TOKEN = 'bench-cluster-token-0123456789';
