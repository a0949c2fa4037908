/**
 * The notification dispatcher moved into the durable outbox (src/outbox/); this module keeps the
 * old import path working.
 */
export { NotificationDispatcher } from '../outbox/notification-dispatcher.js';
export type { DispatcherOptions } from '../outbox/notification-dispatcher.js';
