/**
 * Image reference handling for discovery rules. A rule pattern such as `nginx`, `**\/nginx` or
 * `bitnami/redis` is compared with the repository path of the image: the registry host, the tag and
 * the digest are ignored, and Docker Hub's implicit `library/` namespace is understood, so `nginx`
 * matches `nginx:1.25`, `docker.io/library/nginx` and `registry.local:5000/library/nginx@sha256:...`.
 */
import { compileGlob } from '@sextant/plugin-kit';

/**
 * The repository path of an image reference, without registry host, tag or digest:
 * `docker.io/library/nginx:1.25` -> `library/nginx`; `ghcr.io/acme/api@sha256:..` -> `acme/api`;
 * `localhost:5000/redis` -> `redis`. A bare image id (`sha256:...`) returns an empty string.
 */
export function imageRepositoryPath(reference: string): string {
  let ref = reference.trim().toLowerCase();
  if (/^sha256:[0-9a-f]+$/.test(ref) || /^[0-9a-f]{64}$/.test(ref)) return '';
  const at = ref.indexOf('@');
  if (at >= 0) ref = ref.slice(0, at);
  const parts = ref.split('/');
  // A first component is a registry host when it has a dot or a port, or is `localhost`.
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) parts.shift();
  const last = parts.length - 1;
  const colon = parts[last].indexOf(':');
  if (colon >= 0) parts[last] = parts[last].slice(0, colon);
  return parts.join('/');
}

/** Path variants a pattern may match: `library/nginx` also answers to `nginx`. */
function candidatePaths(path: string): string[] {
  return path.startsWith('library/') ? [path, path.slice('library/'.length)] : [path];
}

/**
 * True when `pattern` matches the image's repository path. A pattern is a glob in the one dialect of
 * `@sextant/plugin-kit` (picomatch): `*` stays within one path segment, `**` crosses segments, so
 * `*\/nginx` matches `bitnami/nginx` and `**\/nginx` also `acme/team/nginx`. A pattern without `*`
 * is an image reference: its own registry host, tag and digest are ignored too.
 */
export function imageMatchesPattern(reference: string, pattern: string): boolean {
  const path = imageRepositoryPath(reference);
  if (!path) return false;
  const normalised = pattern.includes('*') ? pattern.trim().toLowerCase() : imageRepositoryPath(pattern);
  if (!normalised) return false;
  const matches = compileGlob(normalised);
  return candidatePaths(path).some((p) => matches(p));
}
