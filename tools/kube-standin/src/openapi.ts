/**
 * A minimal OpenAPI v3 discovery (`GET /openapi/v3` and one document per group version): the
 * operations and parameters kubectl checks before `apply` (PATCH with the `fieldValidation` query
 * parameter, so validation happens server side), and a schema entry per kind with its
 * `x-kubernetes-group-version-kind`. Object schemas are open (`type: object`); the stand-in does not
 * validate fields.
 */
import { createHash } from 'node:crypto';
import { apiVersionOf, type ResourceType } from './resources.js';

const gvPath = (t: ResourceType) => (t.group ? `apis/${t.group}/${t.version}` : 'api/v1');

export function openApiRoot(types: readonly ResourceType[]): Record<string, unknown> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const t of types) {
    const p = gvPath(t);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${createHash('sha512').update(p).digest('hex').slice(0, 32).toUpperCase()}` };
  }
  return { paths };
}

/** The document of one group version (`api/v1`, `apis/apps/v1`), or undefined when none is served. */
export function openApiDocument(types: readonly ResourceType[], path: string): Record<string, unknown> | undefined {
  const mine = types.filter((t) => gvPath(t) === path);
  if (!mine.length) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  const param = (name: string) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } });
  for (const t of mine) {
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const schemaName = `${t.group ? `io.k8s.api.${t.group.split('.')[0]}` : 'io.k8s.api.core'}.${t.version}.${t.kind}`;
    const ref = { $ref: `#/components/schemas/${schemaName}` };
    const base = `/${path}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}`;
    const op = (action: string, extra: string[] = []) => ({
      operationId: `${action}${t.kind}`,
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      parameters: ['dryRun', 'fieldManager', ...extra].map(param),
      requestBody: { content: { 'application/json': { schema: ref } } },
      responses: { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } },
    });
    paths[base] = { post: op('post', ['fieldValidation']), get: { ...op('list'), requestBody: undefined } };
    paths[`${base}/{name}`] = { patch: op('patch', ['fieldValidation', 'force']), put: op('put', ['fieldValidation']), get: { ...op('get'), requestBody: undefined } };
    schemas[schemaName] = {
      type: 'object',
      description: `${t.kind} (${apiVersionOf(t)})`,
      properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } },
      additionalProperties: true,
      'x-kubernetes-group-version-kind': [gvk],
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.31.0' }, paths, components: { schemas } };
}
