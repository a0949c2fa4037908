/**
 * The bookkeeping every notifier does after a delivery attempt, so `/metrics` and
 * `sextant plugins status` read the same for all of them.
 */
import type { BaseContext, DeliveryOutcome } from '@sextant/plugin-api';

/** Records one delivery outcome and returns it unchanged (so `return record(outcome)` reads well). */
export type DeliveryRecorder = (outcome: DeliveryOutcome) => DeliveryOutcome;

/**
 * Creates the `deliveries_total{outcome}` counter (outcome = `ok`, `retryable` or `failed`) and
 * returns a recorder that adds 1 per attempt and sets the status: `ok` after a success,
 * `degraded` with `last delivery failed: <error>` after a failure. The error must already be
 * redacted (see `redactSecrets`): it is shown as it is. Call once per instance, in `create()`.
 */
export function createDeliveryRecorder(ctx: Pick<BaseContext<unknown>, 'metrics' | 'status'>): DeliveryRecorder {
  const deliveries = ctx.metrics.counter('deliveries_total', 'Delivery attempts by outcome (ok, retryable, failed)');
  return (outcome) => {
    deliveries.add(1, { outcome: outcome.ok ? 'ok' : outcome.retryable ? 'retryable' : 'failed' });
    if (outcome.ok) ctx.status.set('ok');
    else ctx.status.set('degraded', `last delivery failed: ${outcome.error}`);
    return outcome;
  };
}
