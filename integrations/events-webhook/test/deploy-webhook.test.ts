import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startCollector, type CollectorHarness } from '@sextant/testkit';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { postToReceiver } from '@sextant/integration-kit/testing';
import { deployWebhookCollectorFactory, type EventReceiver } from '../src/index.js';

const TOKEN = 'deploy-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

describeCollectorConformance(deployWebhookCollectorFactory, {
  config: { listen: '127.0.0.1:0', token: TOKEN },
  invalid: { config: { listen: 'localhost', token: TOKEN }, path: 'events-webhook.listen' },
});

let h: CollectorHarness | undefined;
afterEach(async () => {
  await h?.shutdown();
  h = undefined;
});

async function start(): Promise<{ h: CollectorHarness; port: number }> {
  h = await startCollector(deployWebhookCollectorFactory, { config: { listen: '127.0.0.1:0', token: TOKEN } });
  return { h, port: (h.collector as EventReceiver).address()!.port };
}

describe('events-webhook: generic deploy JSON', () => {
  it('turns the documented JSON into a deploy event and logs where it listens', async () => {
    const { h, port } = await start();
    expect(h.logger.lines.some((l) => l.message === `deploy webhook receiver listening on http://127.0.0.1:${port}/`)).toBe(true);
    const res = await postToReceiver(
      port,
      JSON.stringify({ service: 'checkout', version: '2.4.1', previousVersion: '2.4.0', environment: 'production', status: 'succeeded', commit: 'abc1234', url: 'https://ci.example.com/run/42', actor: 'alice', timestamp: '2026-03-01T10:00:00Z' }),
      auth,
    );
    expect(res).toEqual({ status: 202, body: { accepted: 1 } });
    expect(h.sink.events).toEqual([
      {
        type: 'deploy',
        timestamp: Date.UTC(2026, 2, 1, 10),
        title: 'checkout deployed 2.4.0 -> 2.4.1 to production',
        resource: { 'service.name': 'checkout', 'service.version': '2.4.1', 'deployment.environment': 'production' },
        attributes: { 'deploy.status': 'succeeded', 'deploy.provider': 'ci', 'vcs.commit': 'abc1234', 'deploy.url': 'https://ci.example.com/run/42', 'deploy.actor': 'alice', 'deploy.previous_version': '2.4.0' },
        severity: 'info',
        source: 'events-webhook',
      },
    ]);
    expect(h.sink.flushes).toBeGreaterThan(0);
    expect(h.metrics.counters.events_total).toBe(1);
  });

  it('marks a failed deploy critical and accepts the token in X-Sextant-Token', async () => {
    const { h, port } = await start();
    expect((await postToReceiver(port, JSON.stringify({ service: 'api', version: '9', status: 'failed' }), { 'x-sextant-token': TOKEN })).status).toBe(202);
    expect(h.sink.events[0]).toMatchObject({ title: 'api deploy of 9 failed', severity: 'critical' });
  });

  it('refuses wrong tokens, malformed JSON, a 10 MB body, unknown fields and bad values with 4xx, storing nothing', async () => {
    const { h, port } = await start();
    const good = JSON.stringify({ service: 'checkout', version: '1' });
    expect(await postToReceiver(port, good)).toMatchObject({ status: 401, body: { error: expect.stringContaining('missing or wrong token') } });
    expect((await postToReceiver(port, good, { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await postToReceiver(port, good, { 'x-sextant-token': `${TOKEN}x` })).status).toBe(401);
    expect(await postToReceiver(port, '{"service": "checkout", ', auth)).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^malformed deploy JSON: .*JSON/) } });
    expect(await postToReceiver(port, Buffer.alloc(10 * 1024 * 1024, 'a'), auth)).toMatchObject({ status: 413, body: { error: expect.stringContaining('larger than maxBodyBytes (1048576 bytes)') } });
    expect((await postToReceiver(port, Buffer.alloc(3 * 1024 * 1024, ' '), auth, { chunked: true })).status).toBe(413);
    expect(await postToReceiver(port, JSON.stringify({ service: 'checkout', version: '1', sevrity: 'x', team: 'y' }), auth)).toEqual({
      status: 400,
      body: { error: 'unknown fields "sevrity", "team"; allowed: service, version, environment, status, commit, url, actor, previousVersion, timestamp, description' },
    });
    expect(await postToReceiver(port, JSON.stringify({ service: 'checkout' }), auth)).toMatchObject({ status: 400, body: { error: expect.stringContaining('version') } });
    expect(await postToReceiver(port, JSON.stringify({ service: 'checkout', version: 1e308 }), auth)).toMatchObject({ status: 400 });
    expect(await postToReceiver(port, JSON.stringify({ service: 'checkout', version: '1', status: 'exploded' }), auth)).toMatchObject({ status: 400, body: { error: expect.stringContaining('status') } });
    expect(await postToReceiver(port, JSON.stringify({ service: 'checkout', version: '1', timestamp: 'yesterday' }), auth)).toMatchObject({ status: 400, body: { error: expect.stringContaining('timestamp') } });
    expect(await postToReceiver(port, '[1,2]', auth)).toMatchObject({ status: 400 });
    expect(await postToReceiver(port, good, { ...auth, 'content-type': 'text/yaml' })).toMatchObject({ status: 415 });
    expect(await postToReceiver(port, '', auth, { method: 'GET' })).toMatchObject({ status: 405 });
    expect(h.sink.events).toEqual([]);
    expect(h.metrics.counters.rejected_total).toBe(14);
    // still serving after all that
    expect((await postToReceiver(port, good, auth)).status).toBe(202);
  });
});

describe('events-webhook: GitHub and GitLab', () => {
  const github = {
    action: 'created',
    deployment_status: { id: 991, state: 'success', environment: 'production', target_url: 'https://github.com/acme/shop/actions/runs/7', description: 'Deployed', created_at: '2026-03-02T09:00:00Z', creator: { login: 'ci-bot' } },
    deployment: { id: 55, sha: '0123456789abcdef0123456789abcdef01234567', ref: 'v2.5.0', environment: 'production', creator: { login: 'alice' } },
    repository: { name: 'shop', full_name: 'acme/shop', html_url: 'https://github.com/acme/shop' },
    sender: { login: 'alice' },
  };
  const sign = (body: string) => `sha256=${createHmac('sha256', TOKEN).update(body).digest('hex')}`;

  it('accepts a signed GitHub deployment_status and refuses a bad signature', async () => {
    const { h, port } = await start();
    const body = JSON.stringify(github);
    expect(await postToReceiver(port, body, { 'x-github-event': 'deployment_status', 'x-hub-signature-256': sign(body) })).toEqual({ status: 202, body: { accepted: 1 } });
    expect(h.sink.events[0]).toEqual({
      id: 'github-deployment-status-991',
      type: 'deploy',
      timestamp: Date.UTC(2026, 2, 2, 9),
      title: 'shop deployed v2.5.0 to production',
      resource: { 'service.name': 'shop', 'service.version': 'v2.5.0', 'deployment.environment': 'production' },
      attributes: { 'deploy.status': 'succeeded', 'deploy.provider': 'github', 'vcs.commit': github.deployment.sha, 'deploy.url': github.deployment_status.target_url, 'deploy.actor': 'alice', 'deploy.description': 'Deployed' },
      severity: 'info',
      source: 'github',
    });
    expect((await postToReceiver(port, body, { 'x-github-event': 'deployment_status', 'x-hub-signature-256': sign(body + ' ') })).status).toBe(401);
    expect(await postToReceiver(port, '{"zen":"hi"}', { 'x-github-event': 'ping', 'x-hub-signature-256': sign('{"zen":"hi"}') })).toMatchObject({ status: 202, body: { accepted: 0 } });
    expect(h.sink.events).toHaveLength(1);
  });

  it('accepts a GitLab Deployment Hook with X-Gitlab-Token', async () => {
    const { h, port } = await start();
    const body = {
      object_kind: 'deployment',
      status: 'failed',
      status_changed_at: '2026-03-03 12:30:00 +0100',
      deployment_id: 15,
      deployable_url: 'https://gitlab.example.com/acme/api/-/jobs/1',
      environment: 'staging',
      project: { name: 'api', path_with_namespace: 'acme/api' },
      short_sha: 'a1b2c3d4',
      user: { name: 'Bob', username: 'bob' },
      commit_title: 'Fix it',
      ref: 'main',
    };
    expect((await postToReceiver(port, JSON.stringify(body), { 'x-gitlab-event': 'Deployment Hook', 'x-gitlab-token': TOKEN })).status).toBe(202);
    expect(h.sink.events[0]).toMatchObject({
      id: 'gitlab-deployment-15-failed',
      timestamp: Date.UTC(2026, 2, 3, 11, 30),
      title: 'api deploy of main to staging failed',
      severity: 'critical',
      resource: { 'service.name': 'api', 'deployment.environment': 'staging' },
      attributes: { 'deploy.provider': 'gitlab', 'vcs.commit': 'a1b2c3d4', 'deploy.actor': 'bob' },
    });
    expect((await postToReceiver(port, JSON.stringify(body), { 'x-gitlab-event': 'Deployment Hook', 'x-gitlab-token': 'wrong' })).status).toBe(401);
  });
});
