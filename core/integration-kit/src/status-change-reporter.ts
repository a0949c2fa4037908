/**
 * `StatusChangeReporter`: a polling collector's health status, set only when it changes, so a long
 * outage is one status change (and one log line), not one per round.
 */
import { formatError, type CollectorContext, type HealthState, type SextantError } from '@sextant/plugin-api';

/** The part of a component context the reporter uses. */
export type StatusChangeContext = Pick<CollectorContext<unknown>, 'status' | 'logger'>;

export class StatusChangeReporter {
  private reported: { state: HealthState; code?: string; message?: string } | undefined;

  /**
   * @param recovered the info line logged when the state turns `ok` after `degraded`/`error`
   *   (not after `starting`), e.g. "redis at 127.0.0.1:6379 is healthy again".
   */
  constructor(
    private readonly ctx: StatusChangeContext,
    private readonly recovered: string,
    /** Also log each new problem (degraded/error, once per change) as a warning; exporters want this. */
    private readonly options: { readonly logProblems?: boolean } = {},
  ) {}

  /**
   * Sets `state` with the error's formatted message and code (none for `ok`), unless the last
   * reported state, code and message were the same.
   */
  report(state: HealthState, error?: SextantError): void {
    const message = error ? formatError(error) : undefined;
    const code = error?.code;
    const prev = this.reported;
    if (prev && prev.state === state && prev.code === code && prev.message === message) return;
    this.reported = { state, code, message };
    if (state === 'ok' && prev && prev.state !== 'ok' && prev.state !== 'starting') this.ctx.logger.info(this.recovered);
    if (this.options.logProblems && state !== 'ok' && message) this.ctx.logger.warn(message);
    this.ctx.status.set(state, message, code);
  }
}
