import { afterEach, describe, expect, it } from 'vitest';
import { startCollector, startTestRuntime, type CollectorHarness, type TestRuntime } from '@sextant/testkit';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { postToReceiver } from '@sextant/integration-kit/testing';
import { chefCollectorFactory, plugin, type EventReceiver } from '../src/index.js';

const TOKEN = 'chef-token-abcdef123456';
const auth = { authorization: `Bearer ${TOKEN}` };

describeCollectorConformance(chefCollectorFactory, {
  config: { listen: '127.0.0.1:0', token: TOKEN },
  invalid: { config: { listen: '127.0.0.1:0' }, path: 'events-chef.token' },
});

let h: CollectorHarness | undefined;
afterEach(async () => {
  await h?.shutdown();
  h = undefined;
});
async function start(extra: Record<string, unknown> = {}) {
  h = await startCollector(chefCollectorFactory, { config: { listen: '127.0.0.1:0', token: TOKEN, ...extra } });
  return { h, port: (h.collector as EventReceiver).address()!.port };
}

/** What Chef's JsonFile report handler writes (run_status.to_h), trimmed to the fields we read plus a few we ignore. */
const handlerReport = (success: boolean) => ({
  node: { name: 'web-1.example.com', chef_environment: 'production', automatic: { platform: 'debian' } },
  success,
  start_time: '2026-03-01 10:00:00 +0000',
  end_time: '2026-03-01 10:00:42 +0000',
  elapsed_time: 42.5,
  all_resources: Array.from({ length: 25 }, (_, i) => ({ json_class: 'Chef::Resource::File', instance_vars: { path: `/etc/f${i}` } })),
  updated_resources: success ? [{ json_class: 'Chef::Resource::Package' }, { json_class: 'Chef::Resource::Service' }] : [],
  exception: success ? null : 'Errno::ENOENT: No such file or directory @ rb_sysopen - /etc/app/config.yml',
  backtrace: success ? null : ['/opt/chef/embedded/lib/ruby/...'],
  run_id: '3f1c2a9e-0000-4000-8000-000000000001',
  some_future_field: { anything: true },
});

describe('events-chef', () => {
  it('turns a report handler run into a config.run event', async () => {
    const { h, port } = await start();
    expect(await postToReceiver(port, JSON.stringify(handlerReport(true)), auth)).toEqual({ status: 202, body: { accepted: 1 } });
    expect(h.sink.events).toEqual([
      {
        id: 'chef-run-3f1c2a9e-0000-4000-8000-000000000001',
        type: 'config.run',
        timestamp: Date.UTC(2026, 2, 1, 10, 0, 42),
        title: 'chef run on web-1.example.com succeeded (2 of 25 resources updated)',
        resource: { 'host.name': 'web-1.example.com' },
        attributes: {
          'config.tool': 'chef',
          'config.run.status': 'success',
          'config.run.id': '3f1c2a9e-0000-4000-8000-000000000001',
          'config.resources.total': 25,
          'config.resources.updated': 2,
          'config.run.duration_s': 42.5,
          'chef.environment': 'production',
        },
        severity: 'info',
        source: 'chef',
      },
    ]);
  });

  it('marks an exception handler run critical with the exception', async () => {
    const { h, port } = await start();
    expect((await postToReceiver(port, JSON.stringify(handlerReport(false)), auth)).status).toBe(202);
    expect(h.sink.events[0]).toMatchObject({
      title: 'chef run on web-1.example.com failed: Errno::ENOENT: No such file or directory @ rb_sysopen - /etc/app/config.yml',
      severity: 'critical',
      attributes: { 'config.run.status': 'failure', 'config.error': 'Errno::ENOENT: No such file or directory @ rb_sysopen - /etc/app/config.yml' },
    });
  });

  it('accepts data collector run_converge messages with x-data-collector-token and ignores run_start', async () => {
    const { h, port } = await start();
    const converge = {
      message_type: 'run_converge',
      message_version: '1.1.0',
      node_name: 'db-2',
      chef_environment: '_default',
      status: 'failure',
      start_time: '2026-03-01T11:00:00Z',
      end_time: '2026-03-01T11:01:30Z',
      run_id: 'run-77',
      total_resource_count: 40,
      updated_resource_count: 3,
      error: { class: 'Mixlib::ShellOut::ShellCommandFailed', message: 'Expected process to exit with [0], but received 1', backtrace: [] },
      resources: [],
    };
    const headers = { 'x-data-collector-token': TOKEN };
    expect((await postToReceiver(port, JSON.stringify(converge), headers)).status).toBe(202);
    expect(await postToReceiver(port, JSON.stringify({ message_type: 'run_start', node_name: 'db-2' }), headers)).toMatchObject({ status: 202, body: { accepted: 0 } });
    expect(h.sink.events).toHaveLength(1);
    expect(h.sink.events[0]).toMatchObject({
      id: 'chef-run-run-77',
      timestamp: Date.UTC(2026, 2, 1, 11, 1, 30),
      title: 'chef run on db-2 failed: Mixlib::ShellOut::ShellCommandFailed: Expected process to exit with [0], but received 1',
      severity: 'critical',
      attributes: { 'config.resources.total': 40, 'config.resources.updated': 3, 'config.run.duration_s': 90 },
    });
    expect(h.metrics.counters.ignored_total).toBe(1);
  });

  it('ignores successful runs that changed nothing unless includeUnchanged', async () => {
    const quiet = { ...handlerReport(true), updated_resources: [] };
    const first = await start();
    expect(await postToReceiver(first.port, JSON.stringify(quiet), auth)).toMatchObject({ status: 202, body: { accepted: 0 } });
    expect(first.h.sink.events).toEqual([]);
    await first.h.shutdown();
    const second = await start({ includeUnchanged: true });
    expect(await postToReceiver(second.port, JSON.stringify(quiet), auth)).toMatchObject({ status: 202, body: { accepted: 1 } });
  });

  it('refuses wrong tokens, malformed JSON, a 10 MB body and nonsense values with 4xx, storing nothing', async () => {
    const { h, port } = await start();
    const body = JSON.stringify(handlerReport(true));
    expect((await postToReceiver(port, body)).status).toBe(401);
    expect((await postToReceiver(port, body, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await postToReceiver(port, body, { authorization: `Basic ${Buffer.from('chef:wrong').toString('base64')}` })).status).toBe(401);
    expect(await postToReceiver(port, '{"node": "web-1", "success": tru', auth)).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^malformed Chef JSON: /) } });
    expect((await postToReceiver(port, Buffer.alloc(10 * 1024 * 1024, '{'), auth)).status).toBe(413);
    expect(await postToReceiver(port, JSON.stringify({ node: 'web-1', success: 'yes' }), auth)).toMatchObject({ status: 400, body: { error: expect.stringContaining('success must be true or false') } });
    expect(await postToReceiver(port, JSON.stringify({ message_type: 'run_converge', node_name: 'x', status: 'success', updated_resource_count: -4 }), auth)).toMatchObject({
      status: 400,
      body: { error: 'updated_resource_count must be a non-negative integer (got -4)' },
    });
    expect(await postToReceiver(port, JSON.stringify({ hello: 'world' }), auth)).toMatchObject({ status: 400, body: { error: expect.stringContaining('not a Chef report') } });
    expect(await postToReceiver(port, JSON.stringify({ ...handlerReport(true), elapsed_time: -1 }), auth)).toMatchObject({ status: 400 });
    expect(h.sink.events).toEqual([]);
    expect(h.metrics.counters.rejected_total).toBe(9);
    // the token may also come as the HTTP Basic password
    expect((await postToReceiver(port, body, { authorization: `Basic ${Buffer.from(`chef:${TOKEN}`).toString('base64')}` })).status).toBe(202);
  });
});

describe('events-chef on the API server (no listen)', () => {
  let rt: TestRuntime | undefined;
  afterEach(async () => {
    await rt?.stop();
    rt = undefined;
  });

  it('mounts at /ingest/<instance>/ of the API port: same token checks, limits and answers as on its own port', async () => {
    rt = await startTestRuntime({ plugins: [plugin], api: true, config: { collectors: { 'events-chef': { token: TOKEN, maxBodyBytes: 4096 } } } });
    const url = `${rt.url}/ingest/events-chef/`;
    const post = async (body: string, headers: Record<string, string> = {}) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect(rt.runtime.statuses().find((s) => s.id === 'events-chef')?.state).toBe('ok');
    expect(await post(JSON.stringify(handlerReport(true)), auth)).toEqual({ status: 202, body: { accepted: 1 } });
    expect((await post(JSON.stringify(handlerReport(true)), { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(JSON.stringify(handlerReport(true)), { 'x-data-collector-token': TOKEN })).status).toBe(202);
    expect(await post('x'.repeat(5000), auth)).toMatchObject({ status: 413, body: { error: expect.stringContaining('maxBodyBytes (4096 bytes)') } });
    expect((await fetch(url)).status).toBe(405);
    expect((await fetch(`${rt.url}/ingest/events-nothing/`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect(rt.runtime.pipeline.events.query({ limit: 10 }).filter((e) => e.type === 'config.run')).toHaveLength(2);
    expect(rt.runtime.telemetry.sum('sextant_plugin_rejected_total', { instance: 'events-chef' })).toBe(3);
  });

  it('without listen where no API is served (an agent without --port), fails start with a hint to set listen', async () => {
    rt = await startTestRuntime({ plugins: [plugin], config: { server: { enabled: false }, collectors: { 'events-chef': { token: TOKEN } } } });
    const status = rt.runtime.statuses().find((s) => s.id === 'events-chef');
    expect(status?.state).toBe('error');
    expect(status?.message).toMatch(/no listen address, and this process serves no HTTP API/);
  });
});
