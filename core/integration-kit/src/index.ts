/**
 * @sextant/integration-kit — the pieces every notifier and change-event receiver needs, in one
 * copy: guarded outbound HTTP with outcome classification, secrets from env or files with
 * redaction, an authenticated push receiver that turns tool payloads into SextantEvents, and the
 * delivery/template bookkeeping every notifier does.
 *
 * Also the one home of the SSRF guard (`checkOutboundUrl` before a request, `checkResolvedAddress`
 * and the guarded dispatcher at connect time) and of the incident template engine.
 *
 * Depends on @sextant/plugin-api (peer), @sextant/plugin-kit, zod, undici and node built-ins, so a
 * component may use it without pulling in the runtime.
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
export { serveHttpMount, parseListenAddress } from './http-endpoint.js';
export type { HttpEndpoint, HttpEndpointOptions } from './http-endpoint.js';

export { parseToolTimestamp } from './tool-timestamp.js';

export { createDeliveryRecorder } from './delivery-recorder.js';
export type { DeliveryRecorder } from './delivery-recorder.js';
export { createTemplateRenderer } from './template-renderer.js';
export type { TemplateRenderer } from './template-renderer.js';
export { guardOutboundUrlAtStart } from './start-guard.js';
export { createGuardedDispatcher, guardedLookup } from './guarded-dispatcher.js';
export type { GuardedDispatcherOptions, ResolveAll } from './guarded-dispatcher.js';

export { MetricWriter } from './metric-writer.js';
export type { MetricSpec, SeriesAttributes, MetricWriterOptions, MetricWriterContext, KnownSeries, SeriesCap } from './metric-writer.js';
export { StatusChangeReporter } from './status-change-reporter.js';
export type { StatusChangeContext } from './status-change-reporter.js';
export { timeoutDurationMs } from './timeout-duration.js';

export { checkOutboundUrl, checkResolvedAddress, internalAddressReason } from './outbound-url.js';
export type { OutboundUrlOptions } from './outbound-url.js';
export { renderIncidentTemplate, incidentTemplateView, escapeHtml } from './incident-template.js';
export type { IncidentTemplateOptions, RenderedIncidentTemplate } from './incident-template.js';
export { DiskPayloadQueue, MemoryPayloadQueue } from './payload-queue.js';
export type { PayloadQueue, QueueDrops } from './payload-queue.js';
