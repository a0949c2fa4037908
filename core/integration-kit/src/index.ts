/**
 * @sextant/integration-kit — the pieces every notifier and change-event receiver needs, in one
 * copy: guarded outbound HTTP with outcome classification, secrets from env or files with
 * redaction, and an authenticated push receiver that turns tool payloads into SextantEvents.
 *
 * Depends only on @sextant/plugin-api (peer), zod and node built-ins, so a component may use it
 * without pulling in the runtime.
 */
export { resolveSecret, redactSecrets, MAX_ERROR_TEXT } from './secret-source.js';

export { postOutbound, outcomeForStatus, parseRetryAfter, MAX_RESPONSE_BYTES } from './outbound-http.js';
export type { OutboundRequest, OutboundResult, FailedOutcome } from './outbound-http.js';

export {
  createEventReceiver,
  parseJsonBody,
  ReceiverRefusal,
  receiverConfigShape,
  hasToken,
  TOKEN_REQUIRED,
  DEFAULT_MAX_BODY_BYTES,
} from './event-receiver.js';
export type { ReceiverConfig, ReceivedRequest, ParsedEvents, EventReceiverSpec, EventReceiver } from './event-receiver.js';

export { parseToolTimestamp } from './tool-timestamp.js';
