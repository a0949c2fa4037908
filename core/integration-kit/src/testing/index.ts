/**
 * @sextant/integration-kit/testing — helpers for the tests of receivers built with the kit.
 * Not needed at run time.
 */
export { postToReceiver } from './receiver-client.js';
export type { ReceiverResponse, PostToReceiverOptions } from './receiver-client.js';
