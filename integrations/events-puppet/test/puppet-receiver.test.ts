import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startCollector, type CollectorHarness } from '@sextant/testkit';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { postToReceiver } from '@sextant/integration-kit/testing';
import { puppetCollectorFactory, type EventReceiver } from '../src/index.js';

const TOKEN = 'puppet-token-0123456789';
const failedYaml = readFileSync(new URL('./fixtures/report-failed.yaml', import.meta.url), 'utf8');
const yamlHeaders = { 'content-type': 'application/x-yaml', authorization: `Basic ${Buffer.from(`puppet:${TOKEN}`).toString('base64')}` };

describeCollectorConformance(puppetCollectorFactory, {
  config: { listen: '127.0.0.1:0', token: TOKEN },
  invalid: { config: { listen: '127.0.0.1:0', token: TOKEN, maxBodyBytes: -1 }, path: 'events-puppet.maxBodyBytes' },
});

let h: CollectorHarness | undefined;
afterEach(async () => {
  await h?.shutdown();
  h = undefined;
});
async function start(extra: Record<string, unknown> = {}) {
  h = await startCollector(puppetCollectorFactory, { config: { listen: '127.0.0.1:0', token: TOKEN, ...extra } });
  return { h, port: (h.collector as EventReceiver).address()!.port };
}

describe('events-puppet', () => {
  it('reads a YAML report with Ruby object tags (token as the Basic password in reporturl)', async () => {
    const { h, port } = await start();
    expect(await postToReceiver(port, failedYaml, yamlHeaders)).toEqual({ status: 202, body: { accepted: 1 } });
    expect(h.sink.events).toEqual([
      {
        id: 'puppet-report-9b2f0c4e-1111-4222-8333-444455556666',
        type: 'config.run',
        timestamp: Date.UTC(2026, 2, 4, 7, 15, 30, 250),
        title: 'puppet run on app-3.example.com failed (config 1772608530): 1 failed: Service[nginx]',
        resource: { 'host.name': 'app-3.example.com' },
        attributes: {
          'config.tool': 'puppet',
          'config.run.status': 'failed',
          'config.version': '1772608530',
          'puppet.environment': 'production',
          'config.resources.total': 143,
          'config.resources.changed': 2,
          'config.resources.failed': 1,
          'config.run.duration_s': 12.425,
          'config.failed_resources': 'Service[nginx]',
          'puppet.version': '7.28.0',
        },
        severity: 'critical',
        source: 'puppet',
      },
    ]);
  });

  it('reads a JSON report and counts from resource_statuses when metrics are absent', async () => {
    const { h, port } = await start();
    const report = {
      host: 'web-9',
      time: '2026-03-05T10:00:00.000000000+00:00',
      status: 'changed',
      configuration_version: 'abc123-main',
      environment: 'staging',
      resource_statuses: { 'File[/a]': { changed: true, failed: false }, 'File[/b]': { changed: false, failed: false }, 'Package[x]': { changed: true, failed: false } },
      unknown_future_field: [1, 2, 3],
    };
    expect((await postToReceiver(port, JSON.stringify(report), { 'content-type': 'application/json', 'x-sextant-token': TOKEN })).status).toBe(202);
    expect(h.sink.events[0]).toMatchObject({
      title: 'puppet run on web-9 changed (config abc123-main): 2 of 3 resources changed',
      severity: 'info',
      timestamp: Date.UTC(2026, 2, 5, 10),
      attributes: { 'config.resources.total': 3, 'config.resources.changed': 2, 'config.resources.failed': 0, 'config.version': 'abc123-main' },
    });
  });

  it('ignores unchanged runs unless includeUnchanged', async () => {
    const unchanged = failedYaml.replace('status: failed', 'status: unchanged');
    const a = await start();
    expect(await postToReceiver(a.port, unchanged, yamlHeaders)).toMatchObject({ status: 202, body: { accepted: 0 } });
    expect(a.h.sink.events).toEqual([]);
    await a.h.shutdown();
    const b = await start({ includeUnchanged: true });
    expect(await postToReceiver(b.port, unchanged, yamlHeaders)).toMatchObject({ status: 202, body: { accepted: 1 } });
  });

  it('refuses wrong tokens, malformed YAML/JSON, alias bombs, a 10 MB body and non-reports with 4xx, storing nothing', async () => {
    const { h, port } = await start();
    expect((await postToReceiver(port, failedYaml, { 'content-type': 'application/x-yaml' })).status).toBe(401);
    expect((await postToReceiver(port, failedYaml, { ...yamlHeaders, authorization: `Basic ${Buffer.from('puppet:nope').toString('base64')}` })).status).toBe(401);
    expect(await postToReceiver(port, 'host: web-1\nstatus: [changed\n', yamlHeaders)).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^malformed Puppet YAML report: /) } });
    expect(await postToReceiver(port, '{"host": "x",', { ...yamlHeaders, 'content-type': 'application/json' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^malformed Puppet JSON report: /) } });
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`), 'host: x', 'status: failed'].join('\n');
    expect(await postToReceiver(port, bomb, yamlHeaders)).toMatchObject({ status: 400, body: { error: expect.stringContaining('malformed Puppet YAML report') } });
    expect((await postToReceiver(port, Buffer.alloc(10 * 1024 * 1024, 'a'), yamlHeaders)).status).toBe(413);
    expect(await postToReceiver(port, '- just\n- a list\n', yamlHeaders)).toMatchObject({ status: 400, body: { error: expect.stringContaining('must be a map') } });
    expect(await postToReceiver(port, 'host: web-1\nstatus: exploded\n', yamlHeaders)).toMatchObject({ status: 400, body: { error: expect.stringContaining('status must be changed, unchanged or failed') } });
    expect(await postToReceiver(port, 'status: failed\n', yamlHeaders)).toMatchObject({ status: 400, body: { error: expect.stringContaining('host is missing') } });
    expect(await postToReceiver(port, failedYaml, { ...yamlHeaders, 'content-type': 'text/html' })).toMatchObject({ status: 415 });
    expect(h.sink.events).toEqual([]);
    expect(h.metrics.counters.rejected_total).toBe(10);
  });
});
