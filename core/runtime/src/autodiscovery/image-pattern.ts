/**
 * Image reference handling for discovery rules. A rule pattern such as `nginx`, `*\/nginx` or
 * `bitnami/redis` is compared with the repository path of the image: the registry host, the tag and
 * the digest are ignored, and Docker Hub's implicit `library/` namespace is understood, so `nginx`
 * matches `nginx:1.25`, `docker.io/library/nginx` and `registry.local:5000/library/nginx@sha256:...`.
 */

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

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/**
 * True when `pattern` (glob with `*`, which also crosses `/`) matches the image's repository path.
 * The pattern's own registry host, tag and digest are ignored too.
 */
export function imageMatchesPattern(reference: string, pattern: string): boolean {
  const path = imageRepositoryPath(reference);
  if (!path) return false;
  const re = globToRegExp(pattern.includes('*') ? pattern.trim().toLowerCase() : imageRepositoryPath(pattern));
  return candidatePaths(path).some((p) => re.test(p));
}
