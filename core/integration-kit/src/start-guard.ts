/**
 * A notifier's `start()` checks its configured URL with the SSRF guard, so a refused URL shows up
 * when Sextant starts rather than at the first incident.
 */
import { formatError, type BaseContext } from '@sextant/plugin-api';
import { checkOutboundUrl } from './outbound-url.js';
import { redactSecrets } from './secret-source.js';

/**
 * Resolves when `url` passes `checkOutboundUrl` with the `allow` list. Otherwise sets the status
 * to `error` with the coded message (secrets redacted: a chat webhook URL is itself a secret) and
 * rethrows the `SEXTANT_ERR_URL_REFUSED` error, so the runtime reports a failed start.
 */
export async function guardOutboundUrlAtStart(ctx: Pick<BaseContext<unknown>, 'status'>, url: string, allow: readonly string[], secrets: readonly string[] = []): Promise<void> {
  try {
    await checkOutboundUrl(url, { allow });
  } catch (e) {
    ctx.status.set('error', redactSecrets(formatError(e), secrets), (e as { code?: string }).code);
    throw e;
  }
}
