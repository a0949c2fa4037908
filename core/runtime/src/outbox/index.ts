/** The durable notification outbox (issue 8): dispatcher, stores, routing, backoff. */
export { NotificationDispatcher } from './notification-dispatcher.js';
export { DeliveryRecord } from './delivery-record.js';
export type { DeliveryRecordLimits, DeliveryRow, DeliveryState } from './delivery-record.js';
export type { DispatcherOptions } from './notification-dispatcher.js';
export type { OutboxStore, OutboxStoreReporter } from './outbox-store.js';
export type { OutboxEntry, OutboxSettlement } from './outbox-entry.js';
export { idempotencyKeyOf } from './outbox-entry.js';
export { MemoryOutboxStore } from './memory-outbox-store.js';
export { JournalOutboxStore } from './journal-outbox-store.js';
export type { JournalOutboxStoreOptions } from './journal-outbox-store.js';
export { routeMatches } from './notification-route.js';
export type { NotificationRoute, EntityAttributeLookup } from './notification-route.js';
export { fullJitterBackoffMs } from './retry-backoff.js';
export { RedisOutboxStore } from './redis-outbox-store.js';
export type { RedisOutboxStoreOptions } from './redis-outbox-store.js';
