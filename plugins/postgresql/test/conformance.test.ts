/**
 * The collector conformance suite of @sextant/testkit against a private PostgreSQL cluster.
 */
import { afterAll, beforeAll, it } from 'vitest';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { freePort, needCondition } from '@sextant/testkit';
import { postgresqlCollectorFactory } from '../src/index.js';
import { findPostgresBin, startPostgres, SUPERUSER_PASSWORD } from './postgres-server-process.js';

const BIN = findPostgresBin();
// the port is chosen now (the suite's config names it); the server starts only when a test runs
const port = await freePort();
let server: Awaited<ReturnType<typeof startPostgres>> | undefined;
beforeAll(async () => {
  if (BIN) server = await startPostgres(BIN, port);
});
afterAll(async () => server?.stop());

if (BIN) {
  describeCollectorConformance(postgresqlCollectorFactory, {
    config: { url: `postgresql://127.0.0.1:${port}/postgres`, password: SUPERUSER_PASSWORD },
    invalid: { config: { url: 'db.internal:5432' }, path: 'postgresql.url' },
  });
} else {
  it('collector conformance: postgresql', (ctx) => needCondition(ctx, false, 'PostgreSQL server binaries (initdb, postgres) are not installed (apt-get install postgresql)'));
}
