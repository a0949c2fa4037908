/**
 * metav1.Status failure bodies, worded as the Kubernetes API server words them (clients match on
 * `reason` and `code`; people read `message`).
 */

export interface ApiStatus {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure';
  readonly message: string;
  readonly reason: string;
  readonly details?: Record<string, unknown>;
  readonly code: number;
}

export function failure(code: number, reason: string, message: string, details?: Record<string, unknown>): ApiStatus {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** `pods` or `leases.coordination.k8s.io`, as messages name a resource. */
export function qualifiedResource(plural: string, group: string): string {
  return group ? `${plural}.${group}` : plural;
}

export const unauthorized = (): ApiStatus => failure(401, 'Unauthorized', 'Unauthorized');

export const notFound = (plural: string, group: string, name: string): ApiStatus =>
  failure(404, 'NotFound', `${qualifiedResource(plural, group)} "${name}" not found`, { name, ...(group ? { group } : {}), kind: plural });

export const alreadyExists = (plural: string, group: string, name: string): ApiStatus =>
  failure(409, 'AlreadyExists', `${qualifiedResource(plural, group)} "${name}" already exists`, { name, ...(group ? { group } : {}), kind: plural });

export const conflict = (plural: string, group: string, name: string): ApiStatus =>
  failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(plural, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, ...(group ? { group } : {}), kind: plural },
  );

export const expired = (requested: string, oldest: string): ApiStatus => failure(410, 'Expired', `too old resource version: ${requested} (${oldest})`);

export const continueExpired = (): ApiStatus =>
  failure(
    410,
    'Expired',
    'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
  );

export const tooManyRequests = (retryAfterSeconds: number): ApiStatus =>
  failure(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds });

export const badRequest = (message: string): ApiStatus => failure(400, 'BadRequest', message);

export const invalid = (kind: string, name: string, message: string): ApiStatus =>
  failure(422, 'Invalid', `${kind} "${name}" is invalid: ${message}`, { name, kind });

export const methodNotAllowed = (): ApiStatus => failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
