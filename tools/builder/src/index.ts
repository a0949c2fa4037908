/**
 * @sextant/builder — scaffold plugin packages and build custom distributions.
 *
 * Used by `sextant new plugin` and `sextant build`; usable as a library by release scripts.
 */
export { scaffoldPlugin, findMonorepoRoot, SCAFFOLD_VERSIONS } from './scaffold/plugin-scaffold.js';
export type { ScaffoldOptions, ScaffoldResult } from './scaffold/plugin-scaffold.js';
export { pluginNames } from './scaffold/plugin-names.js';
export type { PluginNames } from './scaffold/plugin-names.js';

export { readDistributionManifest, parseDistributionManifest, distributionManifestSchema, PROCESS_ROLES } from './distribution/distribution-manifest.js';
export type { DistributionManifest, LoadedDistributionManifest, PluginRequest, ProcessRole } from './distribution/distribution-manifest.js';
export { RegistrySource, FolderSource, FirstMatchSource } from './distribution/package-source.js';
export type { PackageSource, PackageVersionInfo } from './distribution/package-source.js';
export { resolveDistribution, pluginImportSpecifier, runtimeProtocols, pluginApiRangeOf } from './distribution/distribution-resolver.js';
export type { DistributionResolution, ResolvedPackage, ResolvedPlugin, Conflict } from './distribution/distribution-resolver.js';
export { writeDistribution, distributionEntry, distributionPackageJson, distributionReadme, binName, ENTRY_FILE } from './distribution/distribution-writer.js';
export type { ComponentRow } from './distribution/distribution-writer.js';
export { buildDistribution, defaultRegistry, DistributionConflictError, prepareOutputFolder, BUILD_MARKER } from './distribution/build-distribution.js';
export type { BuildDistributionOptions, BuildDistributionResult } from './distribution/build-distribution.js';

export { checkPublishable } from './release/publishable-package.js';
export type { PublishProblem } from './release/publishable-package.js';
