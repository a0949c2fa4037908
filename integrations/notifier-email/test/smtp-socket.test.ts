/**
 * The connect-time half of the SSRF guard for SMTP: the socket nodemailer sends over is opened by
 * connectSmtpSocket, whose DNS lookup refuses internal answers. DNS answers are played by the test
 * (never real DNS); the server is a real SMTP server (smtp-server) on 127.0.0.1.
 */
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@sextant/testkit';
import { smtpFailure } from '../src/email-notifier.js';
import { connectSmtpSocket } from '../src/smtp-socket.js';

let server: SMTPServer;
let port = 0;
let connections = 0;

beforeAll(async () => {
  port = await freePort();
  server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Answers each lookup of a name with the next entry of its script (the last one repeats). */
function scriptedDns(script: Record<string, string[][]>) {
  return async (host: string) => {
    const answers = script[host];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return answers.length > 1 ? answers.shift()! : answers[0]!;
  };
}

describe('connectSmtpSocket (SSRF guard at connect time)', () => {
  it('refuses a host name whose DNS answer is internal, before connecting', async () => {
    connections = 0;
    const resolve = scriptedDns({ 'smtp.rebind.test': [['127.0.0.1']] });
    await expect(connectSmtpSocket({ host: 'smtp.rebind.test', port, allow: [], timeoutMs: 2000, resolve })).rejects.toMatchObject({
      code: 'SEXTANT_ERR_URL_REFUSED',
      message: 'smtp.rebind.test resolves to 127.0.0.1, which is loopback',
    });
    await expect(connectSmtpSocket({ host: 'smtp.rebind.test', port, allow: [], timeoutMs: 2000, resolve: scriptedDns({ 'smtp.rebind.test': [['198.18.0.25']] }) })).rejects.toMatchObject({
      code: 'SEXTANT_ERR_URL_REFUSED',
    });
    expect(connections).toBe(0);
  });

  it('makes a connect-time refusal a final delivery failure with the code and the hint', async () => {
    const refusal = await connectSmtpSocket({ host: 'smtp.rebind.test', port, allow: [], timeoutMs: 2000, resolve: scriptedDns({ 'smtp.rebind.test': [['10.1.2.3']] }) }).catch((e: unknown) => e);
    expect(smtpFailure(refusal, [])).toEqual({
      ok: false,
      retryable: false,
      error: 'SEXTANT_ERR_URL_REFUSED: smtp.rebind.test resolves to 10.1.2.3, which is a private range; if this receiver is meant to be internal, add "smtp.rebind.test" to the notifier\'s allow list',
    });
  });

  it('connects an allow-listed host name to the address its lookup returned, and the server greets', async () => {
    connections = 0;
    const resolve = scriptedDns({ 'smtp.internal.test': [['127.0.0.1']] });
    const socket = await connectSmtpSocket({ host: 'smtp.internal.test', port, allow: ['smtp.internal.test'], timeoutMs: 2000, resolve });
    const remote = socket.remoteAddress;
    const greeting = await new Promise<string>((done) => socket.once('data', (d: Buffer) => done(d.toString('utf8'))));
    socket.destroy();
    expect(greeting).toMatch(/^220 /);
    expect(remote).toBe('127.0.0.1');
    expect(connections).toBe(1);
  });

  it('reports a dead server as a connection error (retryable for the notifier), not as a refusal', async () => {
    const dead = await freePort();
    await expect(connectSmtpSocket({ host: '127.0.0.1', port: dead, allow: ['127.0.0.1'], timeoutMs: 2000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
