import { describe, expect, it } from 'vitest';
import { SlowlogTracker } from '../src/index.js';

const entry = (id: number, command = 'GET', name = 'app') => [id, 1_767_225_600 + id, 15_000, [command, 'secret-key'], '10.0.0.5:41000', name];

describe('SlowlogTracker', () => {
  const tracker = () => new SlowlogTracker({ 'service.name': 'redis' }, 'db:6379', 'sextant-collector');

  it('emits each entry once, oldest first, without keys or values', () => {
    const t = tracker();
    const first = t.update([entry(2), entry(1), entry(0)], 'run-a', 128);
    expect(first.events.map((e) => e.attributes?.['redis.slowlog.id'])).toEqual([0, 1, 2]);
    expect(first.events[0]).toMatchObject({
      id: 'redis-slowlog:db:6379:run-a:0',
      type: 'slowlog',
      timestamp: 1_767_225_600_000,
      title: 'slow redis command GET took 15 ms on db:6379',
      severity: 'warning',
      attributes: { 'db.operation.name': 'GET', 'redis.slowlog.duration_us': 15_000, 'redis.slowlog.args': 2, 'client.address': '10.0.0.5:41000', 'redis.client.name': 'app' },
    });
    expect(JSON.stringify(first.events)).not.toContain('secret-key');
    const second = t.update([entry(3, 'SET'), entry(2), entry(1)], 'run-a', 128);
    expect(second.events.map((e) => e.attributes?.['redis.slowlog.id'])).toEqual([3]);
    expect(t.update([entry(3), entry(2)], 'run-a', 128).events).toEqual([]);
  });

  it('starts over when the server restarts (new run_id, or ids going back)', () => {
    const t = tracker();
    t.update([entry(10), entry(9)], 'run-a', 128);
    expect(t.update([entry(0)], 'run-b', 128).events).toHaveLength(1);
    t.update([entry(5)], 'run-b', 128);
    expect(t.update([entry(1), entry(0)], 'run-b', 128).events).toHaveLength(2);
  });

  it("skips the collector's own commands and counts malformed and missed entries", () => {
    const t = tracker();
    t.update([entry(1)], 'r', 3);
    const outcome = t.update([entry(9), entry(8, 'INFO', 'sextant-collector'), entry(7), 'junk', [1, 2], [-1, 0, 0, []], [5, 'x', 1, []]], 'r', 3);
    expect(outcome.events.map((e) => e.attributes?.['redis.slowlog.id'])).toEqual([7, 9]);
    expect(outcome.malformed).toBe(4);
    expect(outcome.missed).toBe(5); // ids 2..6 rotated out before they were read
    expect(t.update('not an array', 'r', 3)).toEqual({ events: [], missed: 0, malformed: 1 });
  });
});
