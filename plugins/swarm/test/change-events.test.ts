/**
 * Engine events -> change events, for the events a single-node swarm cannot produce on demand
 * (a node going down, a promotion, a paused rollback). The event lines have the shape Docker 20.10
 * sends (`Actor.Attributes` with `*.old` / `*.new`).
 */
import { describe, expect, it } from 'vitest';
import { changeEvent, factsFromEngineEvent, type ChangeFact } from '../src/index.js';

const none = () => undefined;
const at = { origin: 'stream' as const, timestamp: 1_796_302_120_571, key: '1796302120571011305' };
const events = (line: object, names: (id: string) => string | undefined = none, hosts: (id: string) => string | undefined = none) =>
  factsFromEngineEvent(line, names, hosts).map((f: ChangeFact, i) => changeEvent(f, at, 'cluster1', i));

describe('change events from engine events', () => {
  it('turns a node going down and coming back into host.down / host.up for its hostname', () => {
    const down = events({ Type: 'node', Action: 'update', Actor: { ID: 'n1', Attributes: { name: 'worker-3', 'state.old': 'ready', 'state.new': 'down' } }, timeNano: 1 }, none, (id) => (id === 'n1' ? 'worker-3.example' : undefined));
    expect(down).toEqual([
      expect.objectContaining({ type: 'host.down', severity: 'critical', title: 'swarm node worker-3.example is down (was ready)', resource: { 'host.name': 'worker-3.example', 'docker.swarm.node.id': 'n1', 'docker.swarm.cluster.id': 'cluster1' } }),
    ]);
    const up = events({ Type: 'node', Action: 'update', Actor: { ID: 'n1', Attributes: { name: 'worker-3', 'state.old': 'down', 'state.new': 'ready' } } });
    expect(up[0]).toMatchObject({ type: 'host.up', severity: 'info', resource: { 'host.name': 'worker-3' } });
  });

  it('reports a promotion, a join and a leave', () => {
    expect(events({ Type: 'node', Action: 'update', Actor: { ID: 'n2', Attributes: { name: 'b', 'role.old': 'worker', 'role.new': 'manager' } } })[0]).toMatchObject({ type: 'swarm.node.role', title: 'swarm node b is now a manager' });
    expect(events({ Type: 'node', Action: 'create', Actor: { ID: 'n3', Attributes: { name: 'c' } } })[0]).toMatchObject({ type: 'swarm.node.join' });
    expect(events({ Type: 'node', Action: 'remove', Actor: { ID: 'n3', Attributes: { name: 'c' } } })[0]).toMatchObject({ type: 'swarm.node.leave', severity: 'warning' });
  });

  it('grades rollout states: a paused rollback is critical, a completed rollback a warning', () => {
    const state = (to: string, from = 'rollback_started') => events({ Type: 'service', Action: 'update', Actor: { ID: 's1', Attributes: { name: 'shop_web', 'updatestate.old': from, 'updatestate.new': to } } })[0];
    expect(state('rollback_paused')).toMatchObject({ type: 'rollout', severity: 'critical', title: 'rollback of service shop_web paused after task failures' });
    expect(state('rollback_completed')).toMatchObject({ severity: 'warning', attributes: expect.objectContaining({ 'docker.swarm.update.state': 'rollback_completed', 'docker.swarm.update.state.old': 'rollback_started' }) });
    expect(state('updating', '')).toMatchObject({ severity: 'info', resource: expect.objectContaining({ 'service.name': 'shop_web' }) });
  });

  it('states every fact of one event (image and replicas), each with its own stable id', () => {
    const line = { Type: 'service', Action: 'update', Actor: { ID: 's1', Attributes: { name: 'api', 'image.old': 'api:1', 'image.new': 'api:2', 'replicas.old': '3', 'replicas.new': '4' } } };
    const out = events(line);
    expect(out.map((e) => e.type)).toEqual(['deploy', 'scale']);
    expect(out.map((e) => e.title)).toEqual(['service api updated: image api:1 -> api:2', 'service api scaled 3 -> 4 replicas']);
    expect(events(line).map((e) => e.id)).toEqual(out.map((e) => e.id));
    expect(new Set(out.map((e) => e.id)).size).toBe(2);
  });

  it('ignores updates without news, unknown types and events without an actor', () => {
    expect(events({ Type: 'service', Action: 'update', Actor: { ID: 's1', Attributes: { name: 'api' } } })).toEqual([]);
    expect(events({ Type: 'network', Action: 'create', Actor: { ID: 'x' } })).toEqual([]);
    expect(events({ Type: 'service', Action: 'create' })).toEqual([]);
    expect(events({ Type: 'service', Action: 'update', Actor: { ID: 's1', Attributes: { 'replicas.new': 'NaN' } } })).toEqual([]);
  });

  it('names a service by its id when the event carries no name, from what the last poll knew', () => {
    const out = events({ Type: 'service', Action: 'remove', Actor: { ID: 's9', Attributes: {} } }, (id) => (id === 's9' ? 'shop_db' : undefined));
    expect(out[0]).toMatchObject({ type: 'swarm.service.remove', title: 'service shop_db removed' });
  });
});
