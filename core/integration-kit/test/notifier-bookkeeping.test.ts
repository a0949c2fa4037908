import { describe, expect, it } from 'vitest';
import type { HealthState } from '@sextant/plugin-api';
import { RecordingLogger, RecordingMetrics } from '@sextant/testkit';
import { sampleIncidentUpdate } from '@sextant/testkit/conformance';
import { createDeliveryRecorder, createTemplateRenderer, guardOutboundUrlAtStart } from '../src/index.js';

function context() {
  const statuses: { state: HealthState; message?: string; code?: string }[] = [];
  return { statuses, metrics: new RecordingMetrics(), logger: new RecordingLogger(), status: { set: (state: HealthState, message?: string, code?: string) => void statuses.push({ state, message, code }) } };
}

const notification = { idempotencyKey: 'inc-1:1', attempt: 1, update: sampleIncidentUpdate({ title: 'checkout is slow' }) };

describe('createDeliveryRecorder', () => {
  it('counts every attempt and shows the last failure in the status until a delivery succeeds', () => {
    const ctx = context();
    const record = createDeliveryRecorder(ctx);
    const failed = { ok: false as const, retryable: true, error: 'receiver answered 503' };
    expect(record(failed)).toBe(failed);
    record({ ok: false, retryable: false, error: 'receiver answered 404' });
    record({ ok: true });
    expect(ctx.metrics.counters.deliveries_total).toBe(3);
    expect(ctx.statuses).toEqual([
      { state: 'degraded', message: 'last delivery failed: receiver answered 503', code: undefined },
      { state: 'degraded', message: 'last delivery failed: receiver answered 404', code: undefined },
      { state: 'ok', message: undefined, code: undefined },
    ]);
  });
});

describe('createTemplateRenderer', () => {
  it('renders, leaves typos empty, counts each use and warns once per path', () => {
    const ctx = context();
    const render = createTemplateRenderer(ctx);
    expect(render('[{{incident.title}}] {{incident.titel}}', 'text', notification)).toBe('[checkout is slow] ');
    expect(render('{{incident.titel}}!', 'title', notification)).toBe('!');
    expect(ctx.metrics.counters.template_unknown_paths_total).toBe(2);
    expect(ctx.logger.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual(['template.text uses {{incident.titel}}, which names no field; it renders empty']);
  });

  it('passes escaping options through', () => {
    const render = createTemplateRenderer(context());
    const html = { ...notification, update: sampleIncidentUpdate({ title: '<b>&' }) };
    expect(render('{{incident.title}}', 'html', html, { escape: 'html' })).toBe('&lt;b&gt;&amp;');
    expect(render('{{incident.title}}', 'text', html)).toBe('<b>&');
  });
});

describe('guardOutboundUrlAtStart', () => {
  it('passes an allow-listed URL and refuses an internal one with an error status, secrets redacted', async () => {
    const ctx = context();
    await guardOutboundUrlAtStart(ctx, 'http://127.0.0.1:9/hook', ['127.0.0.1']);
    expect(ctx.statuses).toEqual([]);
    await expect(guardOutboundUrlAtStart(ctx, 'http://169.254.169.254/latest/meta-data', [])).rejects.toMatchObject({ code: 'SEXTANT_ERR_URL_REFUSED' });
    expect(ctx.statuses[0]).toMatchObject({ state: 'error', code: 'SEXTANT_ERR_URL_REFUSED' });
    expect(ctx.statuses[0].message).toMatch(/^SEXTANT_ERR_URL_REFUSED: 169\.254\.169\.254 is link-local/);
    // a URL without a scheme is echoed by the guard: the secret part must not reach the status
    await expect(guardOutboundUrlAtStart(ctx, 'hooks.example.com/services/XXXXsecretXXXX', [], ['XXXXsecretXXXX'])).rejects.toMatchObject({ code: 'SEXTANT_ERR_URL_REFUSED' });
    expect(ctx.statuses[1].message).toBe('SEXTANT_ERR_URL_REFUSED: "hooks.example.com/services/[redacted]" is not a URL; use an absolute http(s) URL such as https://hooks.example.com/sextant');
  });
});
