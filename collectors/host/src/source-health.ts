/**
 * Turns per-source failures of one round into the instance's status and self-metrics.
 *
 * A source is one kernel file the collector reads (`stat`, `meminfo`, `diskstats`, ...). When a
 * source fails, only its metrics are missing from the round; the others are still written. The
 * status is `degraded` with a SEXTANT_ERR_* code while any source fails and goes back to `ok` on
 * the first round in which all succeed. Every failure adds 1 to `parse_errors_total{source}`.
 * Status and log lines change only on transitions, so a file broken for hours logs once.
 */
import { formatError, type Logger, type SelfCounter, type SextantError, type StatusReporter } from '@sextant/plugin-api';

export class SourceHealth {
  private failures = new Map<string, SextantError>();
  private previous = new Map<string, SextantError>();
  /** Message of the last status set; undefined before the first round. */
  private reported: string | undefined;

  constructor(
    private readonly status: StatusReporter,
    private readonly logger: Logger,
    private readonly parseErrors: SelfCounter,
  ) {}

  beginRound(): void {
    const swap = this.previous;
    this.previous = this.failures;
    this.failures = swap;
    this.failures.clear();
  }

  fail(source: string, error: SextantError): void {
    this.failures.set(source, error);
    this.parseErrors.add(1, { source });
    const before = this.previous.get(source);
    if (!before || before.message !== error.message) this.logger.warn(`host source ${source} failed: ${formatError(error)}`, { source, code: error.code });
  }

  endRound(): void {
    for (const source of this.previous.keys()) {
      if (!this.failures.has(source)) this.logger.info(`host source ${source} recovered`, { source });
    }
    if (this.failures.size === 0) {
      if (this.reported !== '') this.status.set('ok');
      this.reported = '';
      return;
    }
    const errors = [...this.failures.values()];
    const message =
      errors.length === 1
        ? formatError(errors[0])
        : `${errors.length} sources failed (${[...this.failures.keys()].join(', ')}): ${errors.map((e) => formatError(e)).join(' | ')}`;
    if (message !== this.reported) this.status.set('degraded', message, errors[0].code);
    this.reported = message;
  }

  /** Sources that failed in the last completed round. */
  failingSources(): string[] {
    return [...this.failures.keys()];
  }
}
