import { afterEach, describe, expect, it } from 'vitest';
import { startCollector, type CollectorHarness } from '@sextant/testkit';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { postToReceiver } from '@sextant/integration-kit/testing';
import { saltCollectorFactory, type EventReceiver } from '../src/index.js';

const TOKEN = 'salt-token-0123456789';
const auth = { 'x-sextant-token': TOKEN };

describeCollectorConformance(saltCollectorFactory, {
  config: { listen: '127.0.0.1:0', token: TOKEN },
  invalid: { config: { listen: '127.0.0.1:0', token: TOKEN, includeUnchanged: 'yes' }, path: 'events-salt.includeUnchanged' },
});

let h: CollectorHarness | undefined;
afterEach(async () => {
  await h?.shutdown();
  h = undefined;
});
async function start(extra: Record<string, unknown> = {}) {
  h = await startCollector(saltCollectorFactory, { config: { listen: '127.0.0.1:0', token: TOKEN, ...extra } });
  return { h, port: (h.collector as EventReceiver).address()!.port };
}

/** A state.apply job return as the master publishes it on salt/job/<jid>/ret/<minion>. */
const stateReturn = (failed: boolean) => ({
  tag: 'salt/job/20260306101500123456/ret/minion-web-1',
  data: {
    cmd: '_return',
    id: 'minion-web-1',
    jid: '20260306101500123456',
    fun: 'state.apply',
    fun_args: ['nginx'],
    retcode: failed ? 2 : 0,
    success: !failed,
    _stamp: '2026-03-06T10:15:03.456789',
    out: 'highstate',
    return: {
      'pkg_|-nginx_|-nginx_|-installed': { name: 'nginx', result: true, changes: {}, comment: 'All specified packages are already installed', duration: 25.5, __run_num__: 0 },
      'file_|-nginx_conf_|-/etc/nginx/nginx.conf_|-managed': { name: '/etc/nginx/nginx.conf', result: true, changes: { diff: '...' }, comment: 'File updated', duration: 12.25, __run_num__: 1 },
      'service_|-nginx_|-nginx_|-running': failed
        ? { name: 'nginx', result: false, changes: {}, comment: 'Job for nginx.service failed because the control process exited with error code.', duration: 1200, __run_num__: 2 }
        : { name: 'nginx', result: true, changes: { nginx: true }, comment: 'Service restarted', duration: 300, __run_num__: 2 },
    },
  },
});

describe('events-salt', () => {
  it('turns a state.apply return event into a config.run event', async () => {
    const { h, port } = await start();
    expect(await postToReceiver(port, JSON.stringify(stateReturn(false)), auth)).toEqual({ status: 202, body: { accepted: 1 } });
    expect(h.sink.events).toEqual([
      {
        id: 'salt-20260306101500123456-minion-web-1',
        type: 'config.run',
        timestamp: Date.UTC(2026, 2, 6, 10, 15, 3, 456),
        title: 'salt state.apply on minion-web-1 succeeded: 2 of 3 states changed',
        resource: { 'host.name': 'minion-web-1' },
        attributes: {
          'config.tool': 'salt',
          'config.run.status': 'success',
          'salt.jid': '20260306101500123456',
          'salt.fun': 'state.apply',
          'salt.retcode': 0,
          'config.resources.total': 3,
          'config.resources.changed': 2,
          'config.resources.failed': 0,
          'config.run.duration_s': 0.338,
        },
        severity: 'info',
        source: 'salt',
      },
    ]);
  });

  it('marks failed states critical with the first failure, and accepts bare returns in a list', async () => {
    const { h, port } = await start();
    const bare = { ...stateReturn(false).data, id: 'minion-db-1', jid: '20260306101500999999', return: ["Rendering SLS 'base:postgres' failed: Jinja variable 'pg' is undefined"], retcode: 1, success: false };
    expect((await postToReceiver(port, JSON.stringify([stateReturn(true), bare]), auth)).status).toBe(202);
    expect(h.sink.events.map((e) => [e.title, e.severity])).toEqual([
      ['salt state.apply on minion-web-1 failed: 1 of 3 states failed (nginx: Job for nginx.service failed because the control process exited with error code.)', 'critical'],
      ["salt state.apply on minion-db-1 failed: 1 states failed (Rendering SLS 'base:postgres' failed: Jinja variable 'pg' is undefined)", 'critical'],
    ]);
  });

  it('ignores non-state functions and unchanged runs unless includeUnchanged', async () => {
    const { h, port } = await start();
    const ping = { tag: 'salt/job/20260306101500000001/ret/m1', data: { fun: 'test.ping', id: 'm1', jid: '20260306101500000001', return: true, retcode: 0, success: true } };
    expect(await postToReceiver(port, JSON.stringify(ping), auth)).toMatchObject({ status: 202, body: { accepted: 0, ignored: 'test.ping is not a state run' } });
    const quiet = stateReturn(false);
    quiet.data.return = { 'pkg_|-nginx_|-nginx_|-installed': quiet.data.return['pkg_|-nginx_|-nginx_|-installed'] } as never;
    expect(await postToReceiver(port, JSON.stringify(quiet), auth)).toMatchObject({ status: 202, body: { accepted: 0 } });
    expect(h.sink.events).toEqual([]);
    expect(h.metrics.counters.ignored_total).toBe(2);
  });

  it('refuses wrong tokens, malformed JSON, a 10 MB body and nonsense with 4xx, storing nothing (even for a partly valid list)', async () => {
    const { h, port } = await start();
    const good = JSON.stringify(stateReturn(true));
    expect((await postToReceiver(port, good)).status).toBe(401);
    expect((await postToReceiver(port, good, { 'x-sextant-token': 'salt-token-wrong' })).status).toBe(401);
    expect(await postToReceiver(port, '{"tag": "salt/job/1/ret/m", "data": {', auth)).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^malformed Salt JSON: /) } });
    expect((await postToReceiver(port, Buffer.alloc(10 * 1024 * 1024, '['), auth)).status).toBe(413);
    expect(await postToReceiver(port, JSON.stringify([stateReturn(true), { fun: 'state.apply', id: 'm', jid: 'x', retcode: -3 }]), auth)).toMatchObject({
      status: 400,
      body: { error: 'retcode must be an integer 0..255 (got -3)' },
    });
    expect(await postToReceiver(port, JSON.stringify({ fun: 'state.apply', id: 'm', jid: '../../etc' }), auth)).toMatchObject({ status: 400, body: { error: expect.stringContaining('jid') } });
    expect(await postToReceiver(port, JSON.stringify({ hello: 'world' }), auth)).toMatchObject({ status: 400, body: { error: expect.stringContaining('fun is missing') } });
    expect(await postToReceiver(port, '[]', auth)).toMatchObject({ status: 400 });
    expect(await postToReceiver(port, JSON.stringify(Array(1001).fill(stateReturn(true))), auth)).toMatchObject({ status: 400, body: { error: expect.stringContaining('at most 1000') } });
    expect(h.sink.events).toEqual([]);
    expect(h.metrics.counters.rejected_total).toBe(9);
  });
});
