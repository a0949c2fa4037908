import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startNotifier } from '@sextant/testkit';
import { describeNotifierConformance, sampleIncidentUpdate } from '@sextant/testkit/conformance';
import type { Notification } from '@sextant/plugin-api';
import { emailNotifierFactory, incidentMessageId } from '../src/index.js';

const USER = 'sextant';
const PASSWORD = 'smtp-pa55word-secret';

interface ReceivedMail {
  readonly from: string;
  readonly to: string[];
  readonly raw: string;
}

/** A real SMTP server (smtp-server) on 127.0.0.1 with AUTH; `rejectRcpt` makes RCPT answer 550. */
const received: ReceivedMail[] = [];
let server: SMTPServer;
let port = 0;
const REJECTED = 'nobody@example.com';
const DEFERRED = 'later@example.com';

beforeAll(async () => {
  port = await freePort();
  server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === PASSWORD) return callback(null, { user: USER });
      callback(new Error('Invalid username or password'));
    },
    onRcptTo(address, _session, callback) {
      if (address.address === REJECTED) return callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
      if (address.address === DEFERRED) return callback(Object.assign(new Error('Try again later'), { responseCode: 451 }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const config = (extra: Record<string, unknown> = {}) => ({
  host: '127.0.0.1',
  port,
  starttls: 'never',
  user: USER,
  password: PASSWORD,
  from: 'Sextant <alerts@example.com>',
  to: ['oncall@example.com', 'team@example.com'],
  allow: ['127.0.0.1'],
  ...extra,
});

const n = (change: 'opened' | 'updated' | 'resolved', sequence: number, overrides = {}): Notification => ({
  idempotencyKey: `inc-test-1:${sequence}`,
  update: { ...sampleIncidentUpdate(overrides, change, sequence), ...(change === 'updated' ? { reason: 'likely cause changed' } : {}) },
  attempt: 1,
  url: 'https://sextant.example.com/incidents/inc-test-1?tab=causes&x=1',
});

/** Header value from a raw message, unfolded. */
function header(raw: string, name: string): string | undefined {
  const head = raw.split(/\r\n\r\n/)[0].replace(/\r\n[ \t]+/g, ' ');
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

/** Decodes RFC 2047 Q-encoded words (`=?UTF-8?Q?...?=`), which nodemailer uses for non-ASCII or special subjects. */
function decodeWords(value: string | undefined): string | undefined {
  return value
    ?.replace(/\?=\s+=\?UTF-8\?Q\?/g, '')
    .replace(/=\?UTF-8\?Q\?(.*?)\?=/g, (_, q: string) => Buffer.from(q.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/g, (_m, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'));
}

/** The decoded body of the part with this content type (quoted-printable or 7bit). */
function part(raw: string, type: string): string {
  const start = raw.indexOf(`Content-Type: ${type}`);
  expect(start, `part ${type}`).toBeGreaterThan(-1);
  const rest = raw.slice(start);
  const body = rest.slice(rest.indexOf('\r\n\r\n') + 4, rest.search(/\r\n--/));
  return /Content-Transfer-Encoding: quoted-printable/.test(rest.slice(0, rest.indexOf('\r\n\r\n')))
    ? Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8')
    : body;
}

describeNotifierConformance(emailNotifierFactory, {
  config: { host: '127.0.0.1', port: 9, starttls: 'never', from: 'a@example.com', to: ['b@example.com'], allow: ['127.0.0.1'], timeoutMs: 2000 },
  invalid: { config: { host: 'smtp.example.com', from: 'a@example.com', to: [] }, path: 'email.to' },
});

describe('email notifier against a real SMTP server', () => {
  it('sends an authenticated message with plain-text and HTML parts and a Message-ID from the idempotency key', async () => {
    const h = await startNotifier(emailNotifierFactory, { config: config() });
    const before = received.length;
    const outcome = await h.notifier.deliver(n('opened', 1));
    expect(outcome).toMatchObject({ ok: true, detail: expect.stringContaining('accepted by 127.0.0.1') });
    const mail = received[before];
    expect(mail.from).toBe('alerts@example.com');
    expect(mail.to).toEqual(['oncall@example.com', 'team@example.com']);
    expect(header(mail.raw, 'Message-ID')).toBe('<inc-test-1%3A1@sextant>');
    expect(header(mail.raw, 'In-Reply-To')).toBeUndefined();
    expect(header(mail.raw, 'Subject')).toBe('[Sextant critical] checkout latency p90 rose 8x after deploy of payments 2.4.1');
    expect(header(mail.raw, 'From')).toBe('Sextant <alerts@example.com>');
    expect(header(mail.raw, 'To')).toBe('oncall@example.com, team@example.com');
    expect(header(mail.raw, 'X-Sextant-Incident')).toBe('inc-test-1');
    expect(header(mail.raw, 'Content-Type')).toMatch(/^multipart\/alternative/);
    const text = part(mail.raw, 'text/plain');
    expect(text).toContain('Incident opened: checkout latency p90 rose 8x after deploy of payments 2.4.1');
    expect(text).toContain('Impact:   business');
    expect(text).toContain('Likely cause (82%): payments was deployed 2 minutes before the first anomaly');
    expect(text).toContain('  - deploy payments 2.4.0 -> 2.4.1 at 11:58');
    expect(text).toContain('Open the incident: https://sextant.example.com/incidents/inc-test-1?tab=causes&x=1');
    const html = part(mail.raw, 'text/html');
    expect(html).toContain('<h2>Incident opened: checkout latency p90 rose 8x after deploy of payments 2.4.1</h2>');
    expect(html).toContain('<li>deploy payments 2.4.0 -&gt; 2.4.1 at 11:58</li>');
    expect(html).toContain('<a href="https://sextant.example.com/incidents/inc-test-1?tab=causes&amp;x=1">Open the incident</a>');
    await h.shutdown();
  });

  it('threads updates and the resolution under the opening message', async () => {
    const h = await startNotifier(emailNotifierFactory, { config: config() });
    const before = received.length;
    await h.notifier.deliver(n('updated', 2));
    await h.notifier.deliver(n('resolved', 3));
    const [update, resolved] = received.slice(before);
    expect(header(update.raw, 'Message-ID')).toBe('<inc-test-1%3A2@sextant>');
    expect(header(update.raw, 'In-Reply-To')).toBe('<inc-test-1%3A1@sextant>');
    expect(header(update.raw, 'References')).toBe('<inc-test-1%3A1@sextant>');
    expect(part(update.raw, 'text/plain')).toContain('Why this update: likely cause changed');
    expect(header(resolved.raw, 'In-Reply-To')).toBe('<inc-test-1%3A1@sextant>');
    expect(part(resolved.raw, 'text/plain')).toContain('Incident resolved:');
    await h.shutdown();
  });

  it('HTML-escapes incident values in the default body and in user templates', async () => {
    const h = await startNotifier(emailNotifierFactory, {
      config: config({ template: { subject: '{{incident.impact}}: {{incident.title}}', html: '<p>{{incident.title}}</p>', text: 'T={{incident.title}}' } }),
    });
    const before = received.length;
    await h.notifier.deliver(n('opened', 1, { title: '<script>alert("x")</script> & co\r\nBcc: evil@example.com' }));
    const mail = received[before];
    expect(part(mail.raw, 'text/html')).toContain('<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
    expect(part(mail.raw, 'text/plain')).toContain('T=<script>alert("x")</script> & co');
    expect(header(mail.raw, 'Bcc')).toBeUndefined();
    expect(decodeWords(header(mail.raw, 'Subject'))).toBe('business: <script>alert("x")</script> & co Bcc: evil@example.com');
    expect(mail.to).toEqual(['oncall@example.com', 'team@example.com']);
    await h.shutdown();
  });

  it('classifies failures: wrong password and 550 not retryable, 451 and a dead server retryable; the password never shows', async () => {
    const wrong = await startNotifier(emailNotifierFactory, { config: config({ password: 'wrong-password-here' }) });
    const auth = await wrong.notifier.deliver(n('opened', 1));
    expect(auth).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('SMTP authentication failed') });
    expect(JSON.stringify([auth, wrong.statuses, wrong.logger.lines])).not.toContain('wrong-password-here');
    await wrong.shutdown();

    const refused = await startNotifier(emailNotifierFactory, { config: config({ to: [REJECTED] }) });
    expect(await refused.notifier.deliver(n('opened', 1))).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('(550)') });
    await refused.shutdown();

    const deferred = await startNotifier(emailNotifierFactory, { config: config({ to: [DEFERRED] }) });
    expect(await deferred.notifier.deliver(n('opened', 1))).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('(451)') });
    await deferred.shutdown();

    const dead = await startNotifier(emailNotifierFactory, { config: config({ port: await freePort() }) });
    expect(await dead.notifier.deliver(n('opened', 1))).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('ECONNREFUSED') });
    await dead.shutdown();
    expect(JSON.stringify([dead.statuses, dead.logger.lines])).not.toContain(PASSWORD);
  });

  it('refuses to send in clear text when STARTTLS is required but not offered', async () => {
    const h = await startNotifier(emailNotifierFactory, { config: config({ starttls: 'required' }) });
    expect(await h.notifier.deliver(n('opened', 1))).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('TLS') });
    await h.shutdown();
  });

  it('refuses a loopback SMTP host that is not allow-listed', async () => {
    await expect(startNotifier(emailNotifierFactory, { config: config({ allow: [] }) })).rejects.toMatchObject({ code: 'SEXTANT_ERR_URL_REFUSED' });
  });

  it('reads the password from passwordFile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sextant-email-'));
    writeFileSync(join(dir, 'pw'), `${PASSWORD}\n`);
    const h = await startNotifier(emailNotifierFactory, { config: config({ password: undefined, passwordFile: join(dir, 'pw') }) });
    expect(await h.notifier.deliver(n('opened', 1))).toMatchObject({ ok: true });
    await h.shutdown();
    await expect(startNotifier(emailNotifierFactory, { config: config({ password: undefined }) })).rejects.toThrow('email.password');
  });
});

describe('incidentMessageId', () => {
  it('percent-encodes characters a Message-ID cannot hold', () => {
    expect(incidentMessageId('inc-1:2', 'sextant')).toBe('<inc-1%3A2@sextant>');
    expect(incidentMessageId('a b"c%:1', 'mail.example.com')).toBe('<a%20b%22c%25%3A1@mail.example.com>');
    expect(incidentMessageId('..x..:1', 's')).toBe('<%2E%2Ex%2E%2E%3A1@s>');
  });
});
