/**
 * The names a scaffolded plugin derives from its package name, so that every generated file agrees:
 * `@acme/sextant-plugin-disk-usage` -> plugin id and factory type `disk-usage`, identifiers
 * `diskUsage`/`DiskUsage`, metric prefix `disk_usage`.
 */
import { ErrorCode, SextantError, isKebabId } from '@sextant/plugin-api';

export interface PluginNames {
  /** npm package name, as given. */
  readonly packageName: string;
  /** Plugin id and factory type (kebab-case). */
  readonly id: string;
  /** camelCase, for variables: `diskUsage`. */
  readonly camel: string;
  /** PascalCase, for types: `DiskUsage`. */
  readonly pascal: string;
  /** First segment of metric names: `disk_usage`. */
  readonly metricPrefix: string;
}

const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;

export function pluginNames(packageName: string): PluginNames {
  if (!PACKAGE_NAME.test(packageName)) {
    throw new SextantError(ErrorCode.INVALID_ID, `"${packageName}" is not a valid npm package name`, { hint: 'use lower-case letters, digits and dashes, optionally with a scope: my-collector or @acme/sextant-plugin-orders' });
  }
  const base = packageName.replace(/^@[^/]+\//, '');
  const id = base.replace(/^sextant-plugin-/, '').replace(/^plugin-/, '').replace(/[._]/g, '-');
  if (!isKebabId(id)) {
    throw new SextantError(ErrorCode.INVALID_ID, `the plugin id "${id}" derived from "${packageName}" is not kebab-case`, { hint: 'start the name with a letter and use only lower-case letters, digits and single dashes' });
  }
  const words = id.split('-');
  const camel = words[0] + words.slice(1).map((w) => w[0].toUpperCase() + w.slice(1)).join('');
  return { packageName, id, camel, pascal: camel[0].toUpperCase() + camel.slice(1), metricPrefix: words.join('_') };
}
