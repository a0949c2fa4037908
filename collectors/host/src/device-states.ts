/**
 * Per-device state (series ids, counter rates) kept across rounds, keyed by device name, and
 * forgotten after a device has been absent for a while so that short-lived devices (container
 * veth pairs, hot-plugged disks) do not accumulate.
 */
export interface SeenDevice {
  lastSeenRound: number;
}

/** Rounds a device may be absent before its state is dropped (its next appearance starts fresh). */
export const FORGET_AFTER_ROUNDS = 10;

export class DeviceStates<S extends SeenDevice> {
  private readonly states = new Map<string, S>();
  private round = 0;

  constructor(private readonly create: (name: string) => S) {}

  beginRound(): void {
    this.round++;
  }

  /** The state for `name`, created on first sight, marked seen this round. */
  get(name: string): S {
    let state = this.states.get(name);
    if (!state) {
      state = this.create(name);
      this.states.set(name, state);
    }
    state.lastSeenRound = this.round;
    return state;
  }

  /** Drops devices not seen for FORGET_AFTER_ROUNDS rounds. */
  endRound(): void {
    if (this.round % FORGET_AFTER_ROUNDS !== 0) return;
    for (const [name, state] of this.states) {
      if (this.round - state.lastSeenRound >= FORGET_AFTER_ROUNDS) this.states.delete(name);
    }
  }

  get size(): number {
    return this.states.size;
  }
}
