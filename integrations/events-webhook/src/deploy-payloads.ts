/**
 * Deploy notifications from CI/CD systems -> `deploy` events. Three formats, told apart by headers:
 *
 * 1. **Sextant deploy JSON** (the documented generic format, any CI with curl):
 *    `{ "service", "version", "environment"?, "status"?, "commit"?, "url"?, "actor"?,
 *       "previousVersion"?, "timestamp"?, "description"? }` — unknown top-level fields are refused
 *    (400, listing them) so a typo never silently drops data.
 * 2. **GitHub `deployment_status`** webhook (`X-GitHub-Event: deployment_status`), authenticated by
 *    `X-Hub-Signature-256` (HMAC-SHA256 of the body with the token as the webhook secret).
 * 3. **GitLab Deployment Hook** (`X-Gitlab-Event: Deployment Hook`), authenticated by `X-Gitlab-Token`.
 *
 * Every event: type `deploy`, resource `service.name` (+ `deployment.environment`,
 * `service.version`), attributes `deploy.status` (started|succeeded|failed|canceled),
 * `deploy.provider` (ci|github|gitlab) and, when known, `vcs.commit`, `deploy.url`,
 * `deploy.actor`, `deploy.previous_version`; severity `critical` when failed, `warning` when
 * canceled, else `info`.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { Attributes, SextantEvent, Severity } from '@sextant/plugin-api';
import { ReceiverRefusal, parseJsonBody, parseToolTimestamp, type ParsedEvents, type ReceivedRequest } from '@sextant/integration-kit';
import { secretsEqual } from '@sextant/plugin-kit';

export type DeployStatus = 'started' | 'succeeded' | 'failed' | 'canceled';

/** Fields of the generic format; anything else is refused. */
export const GENERIC_DEPLOY_FIELDS = ['service', 'version', 'environment', 'status', 'commit', 'url', 'actor', 'previousVersion', 'timestamp', 'description'] as const;

const text = (max: number) => z.string().trim().min(1).max(max);
const genericDeploySchema = z.object({
  service: text(256),
  version: text(256),
  environment: text(256).optional(),
  status: z.enum(['started', 'succeeded', 'failed', 'canceled']).optional(),
  commit: text(128).optional(),
  url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  actor: text(256).optional(),
  previousVersion: text(256).optional(),
  timestamp: z.union([z.string(), z.number()]).optional(),
  description: text(1024).optional(),
});

interface DeployFacts {
  readonly provider: 'ci' | 'github' | 'gitlab';
  readonly service: string;
  readonly version: string;
  readonly environment?: string;
  readonly status: DeployStatus;
  readonly commit?: string;
  readonly url?: string;
  readonly actor?: string;
  readonly previousVersion?: string;
  readonly timestamp: number;
  readonly description?: string;
  /** Stable id when the source has one (redeliveries keep it). */
  readonly id?: string;
}

const SEVERITY: Readonly<Record<DeployStatus, Severity>> = { started: 'info', succeeded: 'info', failed: 'critical', canceled: 'warning' };

function titleOf(f: DeployFacts): string {
  const where = f.environment ? ` to ${f.environment}` : '';
  const from = f.previousVersion ? `${f.previousVersion} -> ` : '';
  switch (f.status) {
    case 'started':
      return `${f.service} deploy of ${from}${f.version}${where} started`;
    case 'failed':
      return `${f.service} deploy of ${from}${f.version}${where} failed`;
    case 'canceled':
      return `${f.service} deploy of ${from}${f.version}${where} was canceled`;
    default:
      return `${f.service} deployed ${from}${f.version}${where}`;
  }
}

export function deployEvent(f: DeployFacts): SextantEvent {
  const resource: Record<string, string> = { 'service.name': f.service, 'service.version': f.version };
  if (f.environment) resource['deployment.environment'] = f.environment;
  const attributes: Record<string, string> = { 'deploy.status': f.status, 'deploy.provider': f.provider };
  if (f.commit) attributes['vcs.commit'] = f.commit;
  if (f.url) attributes['deploy.url'] = f.url;
  if (f.actor) attributes['deploy.actor'] = f.actor;
  if (f.previousVersion) attributes['deploy.previous_version'] = f.previousVersion;
  if (f.description) attributes['deploy.description'] = f.description;
  return {
    ...(f.id ? { id: f.id } : {}),
    type: 'deploy',
    timestamp: f.timestamp,
    title: titleOf(f),
    resource: resource as Attributes,
    attributes: attributes as Attributes,
    severity: SEVERITY[f.status],
    source: f.provider === 'ci' ? 'events-webhook' : f.provider,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The generic format. `now` stands in for a missing timestamp. */
export function parseGenericDeploy(body: unknown, now: number): DeployFacts {
  if (!isObject(body)) throw new ReceiverRefusal(400, 'invalid', 'the body must be a JSON object like {"service":"checkout","version":"2.4.1"}');
  const unknown = Object.keys(body).filter((k) => !(GENERIC_DEPLOY_FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new ReceiverRefusal(400, 'unknown_fields', `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}; allowed: ${GENERIC_DEPLOY_FIELDS.join(', ')}`);
  }
  const parsed = genericDeploySchema.safeParse(body);
  if (!parsed.success) {
    throw new ReceiverRefusal(400, 'invalid', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  }
  const d = parsed.data;
  let timestamp = now;
  if (d.timestamp !== undefined) {
    const ms = parseToolTimestamp(d.timestamp);
    if (ms === undefined) throw new ReceiverRefusal(400, 'invalid', `timestamp: ${JSON.stringify(d.timestamp)} is not an ISO-8601 time or unix seconds/milliseconds`);
    timestamp = ms;
  }
  return {
    provider: 'ci',
    service: d.service,
    version: d.version,
    status: d.status ?? 'succeeded',
    timestamp,
    ...(d.environment ? { environment: d.environment } : {}),
    ...(d.commit ? { commit: d.commit } : {}),
    ...(d.url ? { url: d.url } : {}),
    ...(d.actor ? { actor: d.actor } : {}),
    ...(d.previousVersion ? { previousVersion: d.previousVersion } : {}),
    ...(d.description ? { description: d.description } : {}),
  };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

const GITHUB_STATES: Readonly<Record<string, DeployStatus>> = { success: 'succeeded', failure: 'failed', error: 'failed', pending: 'started', queued: 'started', in_progress: 'started' };

/** GitHub `deployment_status`; undefined for states that are not deploy progress (`inactive`). */
export function parseGitHubDeploymentStatus(body: unknown, now: number): DeployFacts | undefined {
  if (!isObject(body) || !isObject(body.deployment_status) || !isObject(body.deployment) || !isObject(body.repository)) {
    throw new ReceiverRefusal(400, 'invalid', 'a GitHub deployment_status payload needs deployment_status, deployment and repository objects');
  }
  const ds = body.deployment_status;
  const dep = body.deployment;
  const repo = body.repository;
  const state = str(ds.state);
  if (state === undefined) throw new ReceiverRefusal(400, 'invalid', 'deployment_status.state is missing');
  const status = GITHUB_STATES[state];
  if (status === undefined) return undefined;
  const service = str(repo.name) ?? str(repo.full_name);
  if (!service) throw new ReceiverRefusal(400, 'invalid', 'repository.name is missing');
  const sha = str(dep.sha);
  const version = str(dep.ref) ?? (sha ? sha.slice(0, 12) : undefined);
  if (!version) throw new ReceiverRefusal(400, 'invalid', 'deployment.ref and deployment.sha are missing');
  const environment = str(ds.environment) ?? str(dep.environment);
  const url = str(ds.target_url) ?? str(ds.log_url) ?? str(ds.environment_url);
  const actor = (isObject(body.sender) ? str(body.sender.login) : undefined) ?? (isObject(ds.creator) ? str(ds.creator.login) : undefined);
  const description = str(ds.description);
  return {
    provider: 'github',
    service,
    version,
    status,
    timestamp: parseToolTimestamp(ds.updated_at ?? ds.created_at) ?? now,
    ...(ds.id !== undefined ? { id: `github-deployment-status-${String(ds.id)}` } : {}),
    ...(environment ? { environment } : {}),
    ...(sha ? { commit: sha } : {}),
    ...(url ? { url } : {}),
    ...(actor ? { actor } : {}),
    ...(description ? { description: description.slice(0, 1024) } : {}),
  };
}

const GITLAB_STATES: Readonly<Record<string, DeployStatus>> = { success: 'succeeded', failed: 'failed', canceled: 'canceled', running: 'started', created: 'started' };

/** GitLab Deployment Hook; undefined for states that are not deploy progress. */
export function parseGitLabDeployment(body: unknown, now: number): DeployFacts | undefined {
  if (!isObject(body) || body.object_kind !== 'deployment') throw new ReceiverRefusal(400, 'invalid', 'a GitLab Deployment Hook payload has "object_kind": "deployment"');
  const status = GITLAB_STATES[str(body.status) ?? ''];
  if (status === undefined) return undefined;
  const project = isObject(body.project) ? body.project : {};
  const service = str(project.name) ?? str(project.path_with_namespace);
  if (!service) throw new ReceiverRefusal(400, 'invalid', 'project.name is missing');
  const version = str(body.ref) ?? str(body.short_sha);
  if (!version) throw new ReceiverRefusal(400, 'invalid', 'ref and short_sha are missing');
  const environment = str(body.environment);
  const commit = str(body.short_sha);
  const url = str(body.deployable_url) ?? str(body.environment_external_url) ?? str(body.commit_url);
  const actor = isObject(body.user) ? (str(body.user.username) ?? str(body.user.name)) : undefined;
  const description = str(body.commit_title);
  return {
    provider: 'gitlab',
    service,
    version,
    status,
    timestamp: parseToolTimestamp(body.status_changed_at) ?? now,
    ...(body.deployment_id !== undefined ? { id: `gitlab-deployment-${String(body.deployment_id)}-${status}` } : {}),
    ...(environment ? { environment } : {}),
    ...(commit ? { commit } : {}),
    ...(url ? { url } : {}),
    ...(actor ? { actor } : {}),
    ...(description ? { description: description.slice(0, 1024) } : {}),
  };
}

/** Authenticates a GitHub delivery by `X-Hub-Signature-256: sha256=<hex HMAC of the body>`. */
export function verifyGitHubSignature(request: ReceivedRequest, secret: string): boolean {
  const header = request.headers['x-hub-signature-256'];
  const given = Array.isArray(header) ? header[0] : header;
  if (!given?.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', secret).update(request.body).digest();
  const actual = Buffer.from(given.slice(7), 'hex');
  return secretsEqual(actual, expected);
}

/** Routes a request to the right format and returns its events. */
export function parseDeployRequest(request: ReceivedRequest, now: number): ParsedEvents {
  if (request.contentType !== 'application/json' && request.contentType !== '') {
    throw new ReceiverRefusal(415, 'media_type', `send Content-Type: application/json (got ${request.contentType})`);
  }
  const body = parseJsonBody(request, 'deploy');
  const githubEvent = request.headers['x-github-event'];
  if (githubEvent !== undefined) {
    if (githubEvent !== 'deployment_status') return { ignored: `GitHub ${String(githubEvent)} events are not deploys; subscribe to "Deployment statuses" only` };
    const facts = parseGitHubDeploymentStatus(body, now);
    return facts ? { events: [deployEvent(facts)] } : { ignored: 'deployment status is not a deploy step' };
  }
  if (request.headers['x-gitlab-event'] !== undefined || (isObject(body) && body.object_kind !== undefined)) {
    if (!isObject(body) || body.object_kind !== 'deployment') return { ignored: 'GitLab events other than Deployment Hook are not deploys' };
    const facts = parseGitLabDeployment(body, now);
    return facts ? { events: [deployEvent(facts)] } : { ignored: 'deployment status is not a deploy step' };
  }
  return { events: [deployEvent(parseGenericDeploy(body, now))] };
}
