/**
 * `distribution.yaml`: what a custom Sextant distribution consists of.
 *
 * ```yaml
 * name: acme-sextant            # npm package name of the generated distribution
 * version: 1.0.0
 * runtime: ^0.1.0               # semver range of @sextant/runtime
 * roles: [run]                  # process roles to include: run, agent, server
 * plugins:
 *   - '@sextant/plugin-redis@^0.1.0'
 *   - { name: '@sextant/plugin-nginx', version: ^0.1.0 }
 *   - { name: acme-plugin-orders, path: ../orders }   # a local package folder (packed into vendor/)
 * config:                       # default configuration (sextant.yaml) of the distribution
 *   collectors: { redis: { url: 'redis://127.0.0.1:6379' } }
 * bundle: false                 # also write a single-file bundle (needs rolldown)
 * docker: false                 # also write a Dockerfile
 * ```
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import semver from 'semver';
import { ErrorCode, SextantError, type ConfigIssue } from '@sextant/plugin-api';

/** Process roles a distribution may include; they are the CLI commands of the same name. */
export const PROCESS_ROLES = ['run', 'agent', 'server'] as const;
export type ProcessRole = (typeof PROCESS_ROLES)[number];

const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;

const rangeSchema = z.string().refine((r) => semver.validRange(r) !== null, { message: 'must be a semver range such as ^0.1.0' });

const pluginObjectSchema = z.strictObject({
  name: z.string().regex(PACKAGE_NAME, 'must be an npm package name'),
  /** Semver range; default `*` (the newest compatible release). */
  version: rangeSchema.optional(),
  /** A local package folder instead of the registry, relative to distribution.yaml. */
  path: z.string().min(1).optional(),
});

/** `'@scope/name@^1.2.0'` or `'name'` (any version). */
function parsePluginShorthand(value: string): unknown {
  const at = value.lastIndexOf('@');
  if (at > 0) return { name: value.slice(0, at), version: value.slice(at + 1) };
  return { name: value };
}

const pluginSchema = z.preprocess((v) => (typeof v === 'string' ? parsePluginShorthand(v) : v), pluginObjectSchema);

export const distributionManifestSchema = z.strictObject({
  name: z.string().regex(PACKAGE_NAME, 'must be an npm package name such as acme-sextant or @acme/sextant'),
  version: z.string().refine((v) => semver.valid(v) !== null, { message: 'must be an exact semver version such as 1.0.0' }),
  description: z.string().optional(),
  runtime: rangeSchema.default('*'),
  /** Range of @sextant/cli to build on; default: the newest release that accepts the chosen runtime. */
  cli: rangeSchema.default('*'),
  roles: z.array(z.enum(PROCESS_ROLES)).min(1).default(['run']),
  plugins: z.array(pluginSchema).min(1, 'list at least one plugin'),
  config: z.record(z.string(), z.unknown()).default({}),
  bundle: z.boolean().default(false),
  docker: z.boolean().default(false),
});

export type DistributionManifest = z.infer<typeof distributionManifestSchema>;
export type PluginRequest = z.infer<typeof pluginObjectSchema>;

/** A parsed distribution.yaml plus the folder relative paths in it are resolved against. */
export interface LoadedDistributionManifest {
  readonly manifest: DistributionManifest;
  readonly baseDir: string;
  readonly file?: string;
}

function issuesOf(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((i) => ({ path: i.path.length ? i.path.map(String).join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]') : '(root)', message: i.message }));
}

/** Validates a distribution manifest object and lists every problem at once. */
export function parseDistributionManifest(raw: unknown, baseDir: string, file?: string): LoadedDistributionManifest {
  const result = distributionManifestSchema.safeParse(raw ?? {});
  if (!result.success) {
    const issues = issuesOf(result.error);
    throw new SextantError(ErrorCode.CONFIG_INVALID, `${file ?? 'distribution manifest'} has ${issues.length} problem${issues.length === 1 ? '' : 's'}: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, {
      hint: 'see docs/writing-a-plugin.md#distributions for the fields of distribution.yaml',
      details: { issues },
    });
  }
  const names = new Set<string>();
  for (const p of result.data.plugins) {
    if (names.has(p.name)) {
      throw new SextantError(ErrorCode.CONFIG_INVALID, `${file ?? 'distribution manifest'} lists ${p.name} twice`, { hint: 'keep one entry per plugin package' });
    }
    names.add(p.name);
  }
  return { manifest: result.data, baseDir, ...(file ? { file } : {}) };
}

/** Reads and validates distribution.yaml (YAML or JSON). */
export function readDistributionManifest(file: string): LoadedDistributionManifest {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SextantError(ErrorCode.CONFIG_UNREADABLE, `cannot read ${file}: ${(e as Error).message}`, { hint: 'pass the path of your distribution.yaml' });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new SextantError(ErrorCode.CONFIG_UNREADABLE, `${file} is not valid YAML: ${(e as Error).message}`, { hint: 'check the indentation near the line shown' });
  }
  return parseDistributionManifest(raw, dirname(path), file);
}
