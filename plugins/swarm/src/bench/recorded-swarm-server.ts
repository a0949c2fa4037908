/**
 * Runs a {@link RecordedSwarmEngine} in its own process for the benchmark, so the engine's CPU is
 * not counted as the plugin's. argv[2]: the shape as JSON. Prints the socket path on stdout, stops
 * on SIGTERM.
 */
import { RecordedSwarmEngine, type RecordedSwarmShape } from './recorded-swarm-engine.js';

const shape = JSON.parse(process.argv[2] ?? '{}') as RecordedSwarmShape;
const engine = new RecordedSwarmEngine(shape);
await engine.start();
process.stdout.write(`${JSON.stringify({ socketPath: engine.socketPath, bodyBytes: engine.bodyBytes })}\n`);
process.on('SIGTERM', () => void engine.stop().then(() => process.exit(0)));
