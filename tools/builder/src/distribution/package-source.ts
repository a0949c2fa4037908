/**
 * Where the builder learns which versions of a package exist and what their package.json says —
 * without installing or running anything. The registry source reads packuments (the registry's
 * per-package JSON, which carries every field of each version's package.json, including the
 * `sextant` manifest); the folder source reads package folders on disk (a monorepo checkout, a
 * plugin being written next to the distribution).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCode, SextantError } from '@sextant/plugin-api';

/** The fields of one published version's package.json the builder reads. */
export interface PackageVersionInfo {
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly exports?: unknown;
  /** The raw `sextant` manifest, when the package is a plugin. */
  readonly sextant?: unknown;
  /** Set when the version comes from a folder on disk rather than a registry. */
  readonly dir?: string;
}

export interface PackageSource {
  /** Where versions come from, for messages: `http://127.0.0.1:4873`, `folders under /repo`. */
  readonly label: string;
  /** Every known version of `name`, in any order; empty when the package is unknown here. */
  versions(name: string): Promise<readonly PackageVersionInfo[]>;
  /**
   * `node_modules` folders where this source's packages are installed (a workspace's own), used to
   * bundle a distribution that was not installed. Absent for registries.
   */
  readonly nodeModules?: readonly string[];
}

function pick(raw: Record<string, unknown>, dir?: string): PackageVersionInfo {
  return {
    name: String(raw.name),
    version: String(raw.version),
    ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
    ...(raw.dependencies ? { dependencies: raw.dependencies as Record<string, string> } : {}),
    ...(raw.peerDependencies ? { peerDependencies: raw.peerDependencies as Record<string, string> } : {}),
    ...(raw.exports !== undefined ? { exports: raw.exports } : {}),
    ...(raw.sextant !== undefined ? { sextant: raw.sextant } : {}),
    ...(dir ? { dir } : {}),
  };
}

/** Reads packuments from an npm registry (the public one, a company mirror, a local verdaccio). */
export class RegistrySource implements PackageSource {
  readonly label: string;
  private readonly cache = new Map<string, Promise<readonly PackageVersionInfo[]>>();

  constructor(
    private readonly registryUrl: string,
    private readonly options: { readonly timeoutMs?: number; readonly authToken?: string } = {},
  ) {
    this.label = registryUrl.replace(/\/+$/, '');
  }

  versions(name: string): Promise<readonly PackageVersionInfo[]> {
    let pending = this.cache.get(name);
    if (!pending) {
      pending = this.fetchVersions(name);
      this.cache.set(name, pending);
    }
    return pending;
  }

  private async fetchVersions(name: string): Promise<readonly PackageVersionInfo[]> {
    const url = `${this.label}/${name.replace('/', '%2f')}`;
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { accept: 'application/json', ...(this.options.authToken ? { authorization: `Bearer ${this.options.authToken}` } : {}) },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (e) {
      throw new SextantError(ErrorCode.CONNECTION_FAILED, `cannot reach the npm registry ${this.label} to look up ${name}: ${(e as Error).message}`, {
        hint: 'check the network or pass --registry URL (npm config get registry shows the default)',
      });
    }
    if (res.status === 404) return [];
    if (!res.ok) {
      throw new SextantError(ErrorCode.CONNECTION_FAILED, `the npm registry ${this.label} answered HTTP ${res.status} for ${name}`, {
        hint: res.status === 401 || res.status === 403 ? 'log in with npm login --registry URL' : 'try again later or use another --registry',
      });
    }
    let body: { versions?: Record<string, Record<string, unknown>> };
    try {
      body = (await res.json()) as typeof body;
    } catch (e) {
      throw new SextantError(ErrorCode.PARSE_FAILED, `the npm registry ${this.label} sent an unreadable answer for ${name}: ${(e as Error).message}`);
    }
    return Object.values(body.versions ?? {})
      .filter((v) => typeof v === 'object' && v !== null && typeof v.version === 'string')
      .map((v) => pick({ name, ...v }));
  }
}

/**
 * Package folders on disk, by name. Each folder offers exactly one version (the one in its
 * package.json). Folders without a package.json are ignored.
 */
export class FolderSource implements PackageSource {
  private readonly byName = new Map<string, PackageVersionInfo>();

  constructor(
    dirs: readonly string[],
    readonly label = 'local folders',
    readonly nodeModules: readonly string[] = [],
  ) {
    for (const dir of dirs) {
      const file = join(dir, 'package.json');
      if (!existsSync(file)) continue;
      try {
        const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        if (typeof raw.name === 'string' && typeof raw.version === 'string') this.byName.set(raw.name, pick(raw, resolve(dir)));
      } catch {
        // an unreadable package.json is not a package we can offer
      }
    }
  }

  /** The package folders of an npm-workspaces monorepo (one level under each `workspaces` glob's parent). */
  static fromWorkspace(rootDir: string): FolderSource {
    const root = resolve(rootDir);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces?: string[] };
    const dirs: string[] = [];
    for (const glob of pkg.workspaces ?? []) {
      const parent = join(root, glob.replace(/\/\*$/, ''));
      if (!glob.endsWith('/*')) {
        dirs.push(parent);
        continue;
      }
      if (!existsSync(parent)) continue;
      for (const entry of readdirSync(parent)) dirs.push(join(parent, entry));
    }
    return new FolderSource(dirs, `workspace ${root}`, [join(root, 'node_modules')]);
  }

  async versions(name: string): Promise<readonly PackageVersionInfo[]> {
    const info = this.byName.get(name);
    return info ? [info] : [];
  }
}

/** Asks each source in turn and answers with the first that knows the package. */
export class FirstMatchSource implements PackageSource {
  readonly label: string;
  constructor(private readonly sources: readonly PackageSource[]) {
    this.label = sources.map((s) => s.label).join(' then ');
  }
  async versions(name: string): Promise<readonly PackageVersionInfo[]> {
    for (const s of this.sources) {
      const found = await s.versions(name);
      if (found.length) return found;
    }
    return [];
  }
}
