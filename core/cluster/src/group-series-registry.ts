/**
 * The group's series registry in Redis: every member maps a descriptor to the same group-wide id.
 * The id is `index * partitions + partition`, where `index` is assigned once per partition by a
 * Lua script (HGET, else INCR + HSET), so the partition's owner can keep dense per-partition
 * detector state and its snapshot means the same series on any member.
 */
import type { SeriesDescriptor } from '@sextant/plugin-api';
import type { ClusterKeys } from './cluster-keys.js';
import type { RedisLink } from './redis-link.js';

const INTERN = `local out = {}
for i = 1, #ARGV, 2 do
  local idx = redis.call('HGET', KEYS[1], ARGV[i])
  if not idx then
    idx = redis.call('INCR', KEYS[3]) - 1
    redis.call('HSET', KEYS[1], ARGV[i], idx)
    redis.call('HSET', KEYS[2], idx, ARGV[i + 1])
  end
  out[#out + 1] = tonumber(idx)
end
return out`;

/** The part of a descriptor that is stored (what a detector's catalog needs). */
function storedDescriptor(d: SeriesDescriptor): SeriesDescriptor {
  return {
    metric: d.metric,
    unit: d.unit,
    type: d.type,
    ...(d.kind ? { kind: d.kind } : {}),
    ...(d.description ? { description: d.description } : {}),
    resource: d.resource,
    attributes: d.attributes,
  };
}

export class GroupSeriesRegistry {
  constructor(
    private readonly link: RedisLink,
    private readonly keys: ClusterKeys,
  ) {}

  /** Indices inside partition `p` of these series (created when new), in the same order. */
  async intern(p: number, series: readonly { key: string; descriptor: SeriesDescriptor }[]): Promise<number[]> {
    const args: string[] = [];
    for (const s of series) args.push(s.key, JSON.stringify(storedDescriptor(s.descriptor)));
    const k = this.keys;
    const out = await this.link.call<unknown[]>(k.series(p), ['EVAL', INTERN, '3', k.series(p), k.descriptors(p), k.counter(p), ...args]);
    return out.map(Number);
  }

  /** Descriptors of partition indices (undefined for an index the registry does not know or cannot parse). */
  async describe(p: number, indices: readonly number[]): Promise<(SeriesDescriptor | undefined)[]> {
    if (indices.length === 0) return [];
    const raw = await this.link.call<(string | null)[]>(this.keys.descriptors(p), ['HMGET', this.keys.descriptors(p), ...indices.map(String)]);
    return raw.map((json) => {
      if (typeof json !== 'string') return undefined;
      try {
        const d = JSON.parse(json) as SeriesDescriptor;
        return d && typeof d.metric === 'string' && d.resource && d.attributes ? d : undefined;
      } catch {
        return undefined;
      }
    });
  }

  /** How many series partition `p` holds. */
  async size(p: number): Promise<number> {
    return Number((await this.link.call<string | null>(this.keys.counter(p), ['GET', this.keys.counter(p)])) ?? 0);
  }
}
