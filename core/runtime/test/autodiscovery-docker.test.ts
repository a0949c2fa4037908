/**
 * Autodiscovery end to end with real Docker: the containers collector (as a test fixture) reports
 * container entities, the AutodiscoveryController starts and stops instances of a test plugin
 * whose manifest rule matches the image, honours the io.sextant.plugins label, and explains.
 * Needs dockerd: apt-get install docker.io; dockerd --bridge=none --iptables=false.
 *
 * The collector is imported by relative path because @sextant/collector-containers is not yet
 * linked into node_modules; switch to the package name after the next `npm install`.
 */
import type { PluginManifest } from '@sextant/plugin-api';
import { needCondition, startCollector, systemClock, type CollectorHarness } from '@sextant/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containersCollectorFactory } from '../../../collectors/containers/src/index.js';
import { DockerFixture, docker, dockerAvailable, until } from '../../../collectors/containers/test/fixtures/docker-fixture.js';
import { AutodiscoveryController, type DiscoveryPlugin } from '../src/autodiscovery/index.js';

const available = dockerAvailable();
const reason = 'dockerd is not running (apt-get install docker.io; dockerd --bridge=none --iptables=false)';
const fixture = new DockerFixture();
const manifest: PluginManifest = {
  plugin: './dist/plugin.js',
  protocol: [1],
  provides: ['collector'],
  discovery: [{ factory: 'webcheck', images: ['*/webcheck-app'], ports: [8080], config: { url: 'http://{{host}}:{{port}}/status', name: '{{container.name}}' } }],
};
const plugins: DiscoveryPlugin[] = [{ pluginId: 'webcheck', packageName: '@example/plugin-webcheck', manifest }];

let image = '';
let other = '';
let h: CollectorHarness;
let controller: AutodiscoveryController;
const running = new Map<string, Record<string, unknown>>();
const stopped: string[] = [];
let pump: NodeJS.Timeout | undefined;

beforeAll(async () => {
  if (!available) return;
  [image, other] = fixture.buildImages('sextant-test/webcheck-app', 'sextant-test/unrelated');
  h = await startCollector(containersCollectorFactory, { config: { include: [`label:${fixture.label}`] } });
  controller = new AutodiscoveryController({
    clock: systemClock,
    plugins,
    settleMs: 300,
    stopGraceMs: 300,
    startInstance: (key, _factory, config) => void running.set(key, config),
    stopInstance: (key) => {
      running.delete(key);
      stopped.push(key);
    },
  });
  let applied = 0;
  pump = setInterval(() => {
    const updates = h.sink.topologyUpdates;
    for (; applied < updates.length; applied++) controller.applyTopology(updates[applied]);
  }, 20);
  await until(() => h.lastStatus()?.state === 'ok', 'engine sync');
});

afterAll(async () => {
  clearInterval(pump);
  await controller?.shutdown();
  await h?.shutdown();
  if (available) fixture.cleanup();
});

describe('autodiscovery with Docker', () => {
  it('starts an instance for a container whose image matches a rule, and stops it when the container is removed', async (ctx) => {
    needCondition(ctx, available, reason);
    const name = `sx-web-${fixture.runId}`;
    const id = fixture.run(['--network', 'host', '--expose', '8080', '--name', name], image, ['sleep', '300']);
    const key = `webcheck/c-${id.slice(0, 12)}`;
    await until(() => running.has(key), 'instance start');
    expect(running.get(key)).toEqual({ url: 'http://127.0.0.1:8080/status', name });
    const lines = controller.explain(name)!;
    expect(lines[1]).toBe(`webcheck: matched image pattern */webcheck-app against ${image} -> ${key} url=http://127.0.0.1:8080/status name=${name}`);
    docker('rm', '-f', id);
    await until(() => stopped.includes(key), 'instance stop');
  });

  it('leaves unrelated images alone and explains why', async (ctx) => {
    needCondition(ctx, available, reason);
    const name = `sx-other-${fixture.runId}`;
    const id = fixture.run(['--network', 'none', '--name', name], other, ['sleep', '300']);
    await until(() => controller.explain(name) !== undefined, 'container known');
    await new Promise((r) => setTimeout(r, 600));
    expect([...running.keys()].some((k) => k.endsWith(id.slice(0, 12)))).toBe(false);
    expect(controller.explain(name)).toEqual([
      `container ${name} (${id.slice(0, 12)}), image ${other}, state running`,
      `webcheck: image ${other} does not match */webcheck-app; port 8080 not exposed`,
      'no plugin matched; nothing will be started for this container',
    ]);
    docker('rm', '-f', id);
  });

  it('honours the io.sextant.plugins label: config override and "none"', async (ctx) => {
    needCondition(ctx, available, reason);
    const over = fixture.run(['--network', 'host', '--label', 'io.sextant.plugins={"webcheck": {"url": "http://{{host}}:9999/health"}}'], image, ['sleep', '300']);
    const none = fixture.run(['--network', 'host', '--label', 'io.sextant.plugins=none', '--name', `sx-none-${fixture.runId}`], image, ['sleep', '300']);
    const key = `webcheck/c-${over.slice(0, 12)}`;
    await until(() => running.has(key), 'overridden instance');
    expect(running.get(key)?.url).toBe('http://127.0.0.1:9999/health');
    await until(() => controller.explain(`sx-none-${fixture.runId}`) !== undefined, 'container known');
    await new Promise((r) => setTimeout(r, 600));
    expect(running.has(`webcheck/c-${none.slice(0, 12)}`)).toBe(false);
    expect(controller.explain(`sx-none-${fixture.runId}`)).toContain('webcheck: autodiscovery disabled by label io.sextant.plugins=none');
    docker('rm', '-f', over, none);
    await until(() => stopped.includes(key), 'overridden instance stop');
  });
});
