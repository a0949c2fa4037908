/**
 * The layout of a group's data: how series are partitioned (PARTITIONING) and into how many
 * partitions. Written once, with the data epoch (`{<group>}:layout`); a member whose layout differs
 * refuses to join, because its series would land in other partitions than the group's data says.
 * A group made before the layout was recorded (data epoch present, no layout) partitioned by the
 * whole series key and is refused the same way.
 */
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import type { ClusterKeys } from './cluster-keys.js';
import { PARTITIONING } from './partition-of.js';
import type { RedisLink } from './redis-link.js';

// KEYS[1] layout, KEYS[2] epoch; ARGV[1] this member's layout. Returns the group's layout.
const CLAIM = `local l = redis.call('GET', KEYS[1])
if l then return l end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'series-key/fnv1a32 (no layout recorded)' end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]`;

export function layoutOf(partitions: number): string {
  return `${PARTITIONING} partitions=${partitions}`;
}

/** Records this member's layout in a new group, or checks it against the group's. Throws CONFIG_INVALID on a mismatch. */
export async function checkGroupLayout(link: RedisLink, keys: ClusterKeys): Promise<void> {
  const mine = layoutOf(keys.partitions);
  const theirs = String(await link.call(keys.layout, ['EVAL', CLAIM, '2', keys.layout, keys.epoch, mine]));
  if (theirs === mine) return;
  throw new SextantError(ErrorCode.CONFIG_INVALID, `group "${keys.group}" keeps its data in another layout ("${theirs}"; this member: "${mine}"): its series would land in other partitions`, {
    hint: `start this member with the group's partition count, or use a new --group name (the old group's keys start with "{${keys.group}" and can be deleted once no member uses them)`,
  });
}
