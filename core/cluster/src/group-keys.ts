/**
 * Where group-wide correlation keeps its state in Redis (docs/architecture.md, "Scale-out"). Every
 * key shares the hash tag `{<group>:corr}`, so the leader's commit script (checkpoint, incidents,
 * outbox in one step) stays in one Redis Cluster slot.
 *
 *   {<group>:corr}:lease        string  the leader's member id, PX = lease time
 *   {<group>:corr}:stream       stream  anomalies (k=a) and events (k=e) of every member, d = JSON
 *   {<group>:corr}:ckpt         hash    at = stream id applied up to, by, time, state:<correlator> = snapshot
 *   {<group>:corr}:incidents    hash    incident id -> current incident (JSON)
 *   {<group>:corr}:incidents:t  zset    incident id -> updatedAt (ms), newest last
 *   {<group>:corr}:windows      hash    event id -> silence / maintenance / *.end event (JSON)
 *   {<group>:corr}:outbox       hash    `<notifier> <incident id>:<sequence>` -> undelivered notification (JSON)
 *   {<group>:corr}:deliveries   hash    incident id -> what went out for it, newest 50 rows (JSON, as DeliveryRecord)
 */
export class GroupKeys {
  readonly lease: string;
  readonly stream: string;
  readonly checkpoint: string;
  readonly incidents: string;
  readonly incidentTimes: string;
  readonly windows: string;
  readonly outbox: string;
  readonly deliveries: string;

  constructor(readonly group: string) {
    const tag = `{${group}:corr}`;
    this.lease = `${tag}:lease`;
    this.stream = `${tag}:stream`;
    this.checkpoint = `${tag}:ckpt`;
    this.incidents = `${tag}:incidents`;
    this.incidentTimes = `${tag}:incidents:t`;
    this.windows = `${tag}:windows`;
    this.outbox = `${tag}:outbox`;
    this.deliveries = `${tag}:deliveries`;
  }
}

/** The consumer group the leader reads the correlation stream through. */
export const LEADER_GROUP = 'leader';
