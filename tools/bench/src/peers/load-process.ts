/**
 * The load every system in the peer benchmark receives, in a child process of its own so that
 * its CPU is charged to none of them.
 *
 * - An exporter endpoint (`GET /metrics`, Prometheus text format 0.0.4) with `series` gauges
 *   `bench_value{group="g<k>",member="m<j>"}`, ten members per group, whose values change once
 *   a second. Prometheus and VictoriaMetrics scrape it.
 * - When told to (`feed`), an {@link IngestClient} that sends Sextant `server` the same values
 *   once a second, as the stock agent would ship them: same series count, same rate, same
 *   numbers (both paths read {@link valueAt}).
 *
 * Protocol with the parent (IPC): the child sends `{ ready, port }` once listening; the parent
 * may send `{ feed: { address, token } }`, then `'stats'` (answered with `{ stats }`) and `'stop'`.
 */
import { createServer } from 'node:http';
import { IngestClient, type SeriesDefinition } from '@sextant/protocol';

export const MEMBERS_PER_GROUP = 10;

/** The value of series `index` at whole second `second`: a slow wave per series plus a deterministic wobble. */
export function valueAt(index: number, second: number): number {
  const wobble = (((index * 2654435761 + second * 40503) >>> 0) % 1000) / 1000;
  return 100 + (index % MEMBERS_PER_GROUP) + 10 * Math.sin(second / 60 + index) + wobble;
}

function page(series: number, second: number): string {
  const lines = ['# HELP bench_value Synthetic gauge of the peer benchmark.', '# TYPE bench_value gauge'];
  for (let i = 0; i < series; i++) {
    lines.push(`bench_value{group="g${Math.floor(i / MEMBERS_PER_GROUP)}",member="m${i % MEMBERS_PER_GROUP}"} ${valueAt(i, second)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Sextant's peer groups come from the resource (a container of a service), so each series is
 * defined the way a container collector would: `service.name` = the group, `container.id` = the member.
 */
function definitions(series: number): SeriesDefinition[] {
  const defs: SeriesDefinition[] = [];
  for (let i = 0; i < series; i++) {
    defs.push({
      localId: i,
      descriptor: {
        metric: 'bench.value',
        unit: '1',
        type: 'gauge',
        description: 'Synthetic gauge of the peer benchmark.',
        resource: { 'service.name': `g${Math.floor(i / MEMBERS_PER_GROUP)}`, 'container.id': `g${Math.floor(i / MEMBERS_PER_GROUP)}-m${i % MEMBERS_PER_GROUP}` },
        attributes: {},
      },
    });
  }
  return defs;
}

function feed(series: number, address: string, token: string): { client: IngestClient; timer: NodeJS.Timeout } {
  const client = new IngestClient({ address, insecure: true, token, sourceId: 'bench:peers' });
  const ids = new Uint32Array(series);
  for (let i = 0; i < series; i++) ids[i] = i;
  let defined = false;
  let lastSecond = -1;
  const tick = (): void => {
    const second = Math.floor(Date.now() / 1000);
    if (second === lastSecond) return;
    lastSecond = second;
    const batch = { length: series, series: ids, timestamps: new Float64Array(series).fill(second * 1000), values: new Float64Array(series) };
    for (let i = 0; i < series; i++) batch.values[i] = valueAt(i, second);
    client.send(defined ? [] : definitions(series), batch);
    defined = true;
  };
  tick();
  return { client, timer: setInterval(tick, 100) };
}

function main(): void {
  const series = Number(process.argv[2]);
  let fed: ReturnType<typeof feed> | undefined;
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(page(series, Math.floor(Date.now() / 1000)));
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send!({ ready: true, port: typeof address === 'object' && address ? address.port : 0 });
  });
  process.on('message', (msg: unknown) => {
    if (msg === 'stop') {
      if (fed) clearInterval(fed.timer);
      void fed?.client.close();
      server.close();
      process.disconnect();
      setTimeout(() => process.exit(0), 1000).unref();
    } else if (msg === 'stats') {
      process.send!({ stats: fed ? fed.client.stats() : undefined });
    } else if (typeof msg === 'object' && msg !== null && 'feed' in msg) {
      const { address, token } = (msg as { feed: { address: string; token: string } }).feed;
      fed = feed(series, address, token);
    }
  });
}

if (process.send) main();
