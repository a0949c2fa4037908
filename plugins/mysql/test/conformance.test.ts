/**
 * The collector conformance suite of @sextant/testkit against a private MariaDB server.
 */
import { afterAll, beforeAll, it } from 'vitest';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { freePort, needCondition } from '@sextant/testkit';
import { mysqlCollectorFactory } from '../src/index.js';
import { findMariadb, removeTemplate, startMariadb } from './mariadb-server-process.js';

const BIN = findMariadb();
// the port is chosen now (the suite's config names it); the server starts only when a test runs
const port = await freePort();
let server: Awaited<ReturnType<typeof startMariadb>> | undefined;
beforeAll(async () => {
  if (BIN) server = await startMariadb(BIN, port);
});
afterAll(async () => {
  await server?.stop();
  removeTemplate();
});

if (BIN) {
  describeCollectorConformance(mysqlCollectorFactory, {
    config: { url: `mysql://127.0.0.1:${port}` },
    invalid: { config: { url: 'db.internal:3306' }, path: 'mysql.url' },
  });
} else {
  it('collector conformance: mysql', (ctx) => needCondition(ctx, false, 'MariaDB server binaries (mariadbd, mariadb-install-db) are not installed (apt-get install mariadb-server)'));
}
