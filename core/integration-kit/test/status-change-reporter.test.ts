import { describe, expect, it } from 'vitest';
import { ErrorCode, SextantError, type HealthState } from '@sextant/plugin-api';
import { RecordingLogger } from '@sextant/testkit';
import { StatusChangeReporter } from '../src/index.js';

function context() {
  const statuses: { state: HealthState; message?: string; code?: string }[] = [];
  return { statuses, logger: new RecordingLogger(), status: { set: (state: HealthState, message?: string, code?: string) => void statuses.push({ state, message, code }) } };
}

describe('StatusChangeReporter', () => {
  it('sets a status only when it changes, and logs the recovery after an error once', () => {
    const ctx = context();
    const reporter = new StatusChangeReporter(ctx, 'demo at 127.0.0.1:1 is healthy again');
    const refused = new SextantError(ErrorCode.CONNECTION_FAILED, 'demo at 127.0.0.1:1: connection refused', { hint: 'is it running?' });
    reporter.report('ok');
    reporter.report('ok');
    reporter.report('error', refused);
    reporter.report('error', refused);
    reporter.report('error', new SextantError(ErrorCode.CONNECTION_FAILED, 'demo at 127.0.0.1:1: timed out'));
    reporter.report('ok');
    reporter.report('ok');
    expect(ctx.statuses.map((s) => [s.state, s.code])).toEqual([
      ['ok', undefined],
      ['error', ErrorCode.CONNECTION_FAILED],
      ['error', ErrorCode.CONNECTION_FAILED],
      ['ok', undefined],
    ]);
    expect(ctx.statuses[1].message).toContain('connection refused');
    expect(ctx.logger.lines.filter((l) => l.level === 'info').map((l) => l.message)).toEqual(['demo at 127.0.0.1:1 is healthy again']);
  });

  it('does not log a recovery for the first ok', () => {
    const ctx = context();
    new StatusChangeReporter(ctx, 'recovered').report('ok');
    expect(ctx.logger.lines).toEqual([]);
  });

  it('with logProblems, warns once per new problem and never for ok', () => {
    const ctx = context();
    const reporter = new StatusChangeReporter(ctx, 'receiver accepts again', { logProblems: true });
    const down = new SextantError(ErrorCode.CONNECTION_FAILED, 'receiver: connection refused; 10 bytes queued, retrying');
    reporter.report('degraded', down);
    reporter.report('degraded', down);
    reporter.report('ok');
    expect(ctx.logger.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([`${ErrorCode.CONNECTION_FAILED}: receiver: connection refused; 10 bytes queued, retrying`]);
    expect(ctx.logger.lines.filter((l) => l.level === 'info').map((l) => l.message)).toEqual(['receiver accepts again']);
  });
});
