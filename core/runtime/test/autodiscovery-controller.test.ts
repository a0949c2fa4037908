import type { DiscoveryRule, PluginManifest } from '@sextant/plugin-api';
import { FakeClock } from '@sextant/testkit';
import { describe, expect, it } from 'vitest';
import { AutodiscoveryController, CONTAINER_ENTITY_KEYS, type DiscoveredContainer, type DiscoveryPlugin } from '../src/autodiscovery/index.js';

const rule: DiscoveryRule = { factory: 'nginx', images: ['nginx'], ports: [80], config: { url: 'http://{{host}}:{{port}}/nginx_status' } };
const manifest: PluginManifest = { plugin: './dist/plugin.js', protocol: [1], provides: ['collector'], discovery: [rule] };
const plugins: DiscoveryPlugin[] = [{ pluginId: 'nginx', packageName: '@sextant/plugin-nginx', manifest }];

function nginx(id: string, ip = '10.0.0.5'): DiscoveredContainer {
  return { id: id.padEnd(64, '0'), name: `web-${id}`, image: 'nginx:1.25', labels: {}, state: 'running', pid: 10, ipAddresses: [ip], ports: [{ port: 80, protocol: 'tcp' }], networkMode: 'bridge' };
}

function setup(opts: { settleMs?: number; stopGraceMs?: number } = {}) {
  const clock = new FakeClock();
  const log: string[] = [];
  const errors: string[] = [];
  const controller = new AutodiscoveryController({
    clock,
    plugins,
    settleMs: opts.settleMs ?? 5_000,
    stopGraceMs: opts.stopGraceMs,
    startInstance: (key, factory, config) => void log.push(`start ${key} ${factory} ${JSON.stringify(config)}`),
    stopInstance: (key) => void log.push(`stop ${key}`),
    onError: (key, e) => void errors.push(`${key}: ${(e as Error).message}`),
  });
  return { clock, log, errors, controller };
}

describe('AutodiscoveryController', () => {
  it('starts an instance once the container has been up for settleMs and stops it when the container is removed', async () => {
    const { clock, log, controller } = setup();
    controller.containerUp(nginx('aaaa'));
    clock.advance(4_999);
    await controller.idle();
    expect(log).toEqual([]);
    clock.advance(1);
    await controller.idle();
    expect(log).toEqual(['start nginx/c-aaaa00000000 nginx {"url":"http://10.0.0.5:80/nginx_status"}']);
    expect(controller.instances()).toEqual([expect.objectContaining({ key: 'nginx/c-aaaa00000000', pluginId: 'nginx' })]);
    controller.containerDown(nginx('aaaa').id, { removed: true });
    await controller.idle();
    expect(log.at(-1)).toBe('stop nginx/c-aaaa00000000');
    expect(controller.instances()).toEqual([]);
  });

  it('never starts a container that goes down within the settle window (flapping)', async () => {
    const { clock, log, controller } = setup();
    for (let i = 0; i < 10; i++) {
      controller.containerUp(nginx('bbbb'));
      clock.advance(1_000);
      controller.containerDown(nginx('bbbb').id);
      clock.advance(1_000);
    }
    clock.advance(60_000);
    await controller.idle();
    expect(log).toEqual([]);
  });

  it('keeps the instance across a restart and restarts it only when the config changes', async () => {
    const { clock, log, controller } = setup({ stopGraceMs: 3_000 });
    controller.containerUp(nginx('cccc'));
    clock.advance(5_000);
    controller.containerDown(nginx('cccc').id);
    clock.advance(2_000);
    controller.containerUp(nginx('cccc'));
    clock.advance(60_000);
    await controller.idle();
    expect(log).toHaveLength(1);
    controller.containerDown(nginx('cccc').id);
    clock.advance(1_000);
    controller.containerUp(nginx('cccc', '10.0.0.6'));
    await controller.idle();
    expect(log.slice(1)).toEqual(['stop nginx/c-cccc00000000', 'start nginx/c-cccc00000000 nginx {"url":"http://10.0.0.6:80/nginx_status"}']);
  });

  it('stops the instance after the grace period when a stopped container stays down', async () => {
    const { clock, log, controller } = setup({ stopGraceMs: 3_000 });
    controller.containerUp(nginx('dddd'));
    clock.advance(5_000);
    controller.containerDown(nginx('dddd').id);
    clock.advance(2_999);
    await controller.idle();
    expect(log).toHaveLength(1);
    clock.advance(1);
    await controller.idle();
    expect(log.at(-1)).toBe('stop nginx/c-dddd00000000');
  });

  it('follows container entities from topology updates and resyncs after an engine reconnect', async () => {
    const { clock, log, controller } = setup();
    const K = CONTAINER_ENTITY_KEYS;
    const id = 'e'.repeat(64);
    const attrs = { [K.id]: id, [K.name]: 'web', [K.imageRef]: 'nginx', [K.state]: 'running', [K.ipAddresses]: '["10.1.1.1"]', [K.ports]: '[{"port":80,"protocol":"tcp"}]', [K.networkMode]: 'bridge' };
    controller.applyTopology({ upsertEntities: [{ id: `container:${id}`, type: 'container', name: 'web', attributes: attrs }, { id: 'host:h', type: 'host', name: 'h', attributes: {} }] });
    clock.advance(5_000);
    await controller.idle();
    expect(log).toEqual(['start nginx/c-eeeeeeeeeeee nginx {"url":"http://10.1.1.1:80/nginx_status"}']);
    controller.resync([nginx('ffff')]);
    clock.advance(5_000);
    await controller.idle();
    expect(log.slice(1)).toEqual(['stop nginx/c-eeeeeeeeeeee', 'start nginx/c-ffff00000000 nginx {"url":"http://10.0.0.5:80/nginx_status"}']);
    controller.applyTopology({ removeEntities: [`container:${nginx('ffff').id}`] });
    await controller.idle();
    expect(log.at(-1)).toBe('stop nginx/c-ffff00000000');
  });

  it('reports a failing callback and keeps going; shutdown stops everything', async () => {
    const clock = new FakeClock();
    const errors: string[] = [];
    const stopped: string[] = [];
    let first = true;
    const controller = new AutodiscoveryController({
      clock,
      plugins,
      settleMs: 10,
      startInstance: async () => {
        if (first) {
          first = false;
          throw new Error('config rejected');
        }
      },
      stopInstance: (key) => void stopped.push(key),
      onError: (key, e) => void errors.push(`${key}: ${(e as Error).message}`),
    });
    controller.containerUp(nginx('1111'));
    controller.containerUp(nginx('2222'));
    clock.advance(10);
    await controller.idle();
    expect(errors).toEqual(['nginx/c-111100000000: config rejected']);
    await controller.shutdown();
    await controller.shutdown();
    expect(stopped.sort()).toEqual(['nginx/c-111100000000', 'nginx/c-222200000000']);
    expect(controller.explain('web-1111')).toBeUndefined();
  });

  it('explains a known container by name or id prefix', () => {
    const { controller } = setup();
    controller.containerUp(nginx('abcd'));
    expect(controller.explain('web-abcd')?.[1]).toMatch(/^nginx: matched image pattern nginx against nginx:1.25 -> nginx\/c-abcd00000000/);
    expect(controller.explain('abcd0000')).toBeDefined();
    expect(controller.explain('nope')).toBeUndefined();
  });
});
