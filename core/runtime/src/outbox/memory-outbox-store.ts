import type { OutboxEntry } from './outbox-entry.js';
import type { OutboxStore } from './outbox-store.js';

/**
 * Keeps nothing beyond the dispatcher's own memory: undelivered notifications are lost when the
 * process stops. Used when the runtime has no `dataDir`; the dispatcher says so at start.
 */
export class MemoryOutboxStore implements OutboxStore {
  readonly description = 'memory only';
  readonly durable = false;
  async load(): Promise<OutboxEntry[]> {
    return [];
  }
  enqueue(): void {}
  attempted(): void {}
  settle(): void {}
  async close(): Promise<void> {}
}
