/**
 * Where the group keeps its state in Redis. Everything of one partition shares the hash tag
 * `{<group>:p<n>}`, so the scripts that touch a partition's lease, stream, checkpoint and series
 * together stay in one Redis Cluster slot, while different partitions spread over the cluster.
 *
 *   {<group>}:members               sorted set  member id -> heartbeat expiry (ms, Redis time)
 *   {<group>}:epoch                 string      random, set once: changes only when the store lost its data
 *   {<group>}:layout                string      partitioning and partition count, set once (GroupLayout)
 *   {<group>}:api                   hash        member id -> its API's base URL (MemberApi)
 *   {<group>}:secret                string      random, set once: members' internal API requests carry it
 *   {<group>}:detector-status       hash        member id -> JSON of its partition detectors' health
 *   {<group>}:detector-events       stream      events each member's runtime received, for every member's partition detectors
 *   {<group>:p<n>}:lease            string      owner member id, PX = lease time
 *   {<group>:p<n>}:stream           stream      one entry per (receiving member, batch): s=source, q=sequence, d=samples
 *   {<group>:p<n>}:ckpt             hash        at=stream id applied up to, by, time, dedup, state:<detector>
 *   {<group>:p<n>}:series           hash        canonical series key -> index inside the partition
 *   {<group>:p<n>}:desc             hash        index -> series descriptor (JSON)
 *   {<group>:p<n>}:n                string      next index
 *
 * A group-wide series id is `index * partitions + partition`: every member computes the same id,
 * and the partition is `id % partitions`.
 */
export class ClusterKeys {
  readonly members: string;
  /** Random value written once per life of the group's data (see PartitionLeases: a store that lost its data). */
  readonly epoch: string;
  readonly layout: string;
  readonly api: string;
  readonly secret: string;
  readonly detectorStatus: string;
  readonly events: string;

  constructor(
    readonly group: string,
    readonly partitions: number,
  ) {
    // One hash tag, so the heartbeat script that reads both stays in one Redis Cluster slot.
    this.members = `{${group}}:members`;
    this.epoch = `{${group}}:epoch`;
    this.layout = `{${group}}:layout`;
    this.api = `{${group}}:api`;
    this.secret = `{${group}}:secret`;
    this.detectorStatus = `{${group}}:detector-status`;
    this.events = `{${group}}:detector-events`;
  }

  private tag(p: number): string {
    return `{${this.group}:p${p}}`;
  }
  lease(p: number): string {
    return `${this.tag(p)}:lease`;
  }
  stream(p: number): string {
    return `${this.tag(p)}:stream`;
  }
  checkpoint(p: number): string {
    return `${this.tag(p)}:ckpt`;
  }
  series(p: number): string {
    return `${this.tag(p)}:series`;
  }
  descriptors(p: number): string {
    return `${this.tag(p)}:desc`;
  }
  counter(p: number): string {
    return `${this.tag(p)}:n`;
  }
}

/** The consumer group every partition stream is read through. */
export const CONSUMER_GROUP = 'owners';
