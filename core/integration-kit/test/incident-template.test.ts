import { describe, expect, it } from 'vitest';
import type { Incident, Notification } from '@sextant/plugin-api';
import { renderIncidentTemplate } from '../src/index.js';

const incident: Incident = {
  id: 'inc-7',
  title: 'checkout <latency> rose "8x" & more',
  status: 'open',
  impact: 'business',
  severity: 'critical',
  openedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
  updatedAt: Date.UTC(2026, 0, 2, 3, 9, 5),
  entities: ['service:checkout', 'service:payments'],
  anomalyIds: ['a1'],
  eventIds: [],
  causes: [{ entity: 'service:payments', score: 0.8, summary: 'payments deployed', evidence: ['deploy 2.4.1', 'latency first'] }],
  timeline: [],
  suppressed: [],
};

function notification(overrides: Partial<Incident> = {}, url?: string): Notification {
  return { idempotencyKey: 'inc-7:2', attempt: 1, update: { change: 'updated', sequence: 2, incident: { ...incident, ...overrides }, reason: 'likely cause changed' }, ...(url ? { url } : {}) };
}

describe('renderIncidentTemplate', () => {
  it('substitutes notification, update, incident, top cause and ISO times', () => {
    const out = renderIncidentTemplate(
      '{{change}} #{{ sequence }} [{{incident.severity}}/{{incident.impact}}] {{incident.id}} cause={{cause.entity}} ({{cause.score}}) at {{openedAt}} key={{idempotencyKey}} why={{reason}}',
      notification(),
    );
    expect(out.text).toBe('updated #2 [critical/business] inc-7 cause=service:payments (0.8) at 2026-01-02T03:04:05.000Z key=inc-7:2 why=likely cause changed');
    expect(out.unknownPaths).toEqual([]);
  });

  it('joins scalar arrays, indexes arrays and renders objects as JSON', () => {
    const out = renderIncidentTemplate('{{incident.entities}} | {{incident.causes.0.evidence}} | {{incident.causes.0.entity}}', notification());
    expect(out.text).toBe('service:checkout, service:payments | deploy 2.4.1, latency first | service:payments');
  });

  it('renders known-but-absent fields as empty without reporting them', () => {
    const out = renderIncidentTemplate('[{{url}}][{{cause.summary}}][{{resolvedAt}}][{{incident.resolvedAt}}]', notification({ causes: [] }));
    expect(out.text).toBe('[][][][]');
    expect(out.unknownPaths).toEqual([]);
  });

  it('renders unknown paths as empty and reports each once', () => {
    const out = renderIncidentTemplate('{{incident.titel}}-{{nope}}-{{incident.titel}}-{{incident.title.length}}', notification());
    expect(out.text).toBe('---');
    expect(out.unknownPaths).toEqual(['incident.titel', 'nope', 'incident.title.length']);
  });

  it('HTML-escapes substituted values only when asked, never the template text', () => {
    const html = renderIncidentTemplate('<b>{{incident.title}}</b>', notification(), { escape: 'html' });
    expect(html.text).toBe('<b>checkout &lt;latency&gt; rose &quot;8x&quot; &amp; more</b>');
    const plain = renderIncidentTemplate('<b>{{incident.title}}</b>', notification());
    expect(plain.text).toBe('<b>checkout <latency> rose "8x" & more</b>');
  });

  it('leaves text without placeholders, and malformed braces, as they are', () => {
    expect(renderIncidentTemplate('no {placeholders} {{ here', notification()).text).toBe('no {placeholders} {{ here');
  });

  it('does not reach into the prototype chain', () => {
    const out = renderIncidentTemplate('{{constructor}}{{incident.__proto__}}{{toString}}', notification());
    expect(out.text).toBe('');
    expect(out.unknownPaths).toEqual(['constructor', 'incident.__proto__', 'toString']);
  });
});
