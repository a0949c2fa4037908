/**
 * The collector conformance suite of @sextant/testkit against a private MariaDB server.
 */
import { afterAll, it } from 'vitest';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { freePort, needCondition } from '@sextant/testkit';
import { mysqlCollectorFactory } from '../src/index.js';
import { findMariadb, removeTemplate, startMariadb } from './mariadb-server-process.js';

const BIN = findMariadb();
const server = BIN ? await startMariadb(BIN, await freePort()) : undefined;
afterAll(async () => {
  await server?.stop();
  removeTemplate();
});

if (server) {
  describeCollectorConformance(mysqlCollectorFactory, {
    config: { url: `mysql://127.0.0.1:${server.port}` },
    invalid: { config: { url: 'db.internal:3306' }, path: 'mysql.url' },
  });
} else {
  it('collector conformance: mysql', (ctx) => needCondition(ctx, false, 'MariaDB server binaries (mariadbd, mariadb-install-db) are not installed (apt-get install mariadb-server)'));
}
