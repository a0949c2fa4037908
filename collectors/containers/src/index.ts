/**
 * @sextant/collector-containers — Docker/Podman containers for Sextant.
 * The plugin itself is the default export of `@sextant/collector-containers/plugin`.
 */
export { containersCollectorFactory, ContainersCollector, CONTAINER_SERIES } from './containers-collector.js';
export { containersConfigSchema, containersDefaults, resolveSocketPath } from './config.js';
export type { ContainersConfig, ContainersConfigInput } from './config.js';
export { CONTAINER_ENTITY_KEYS, WELL_KNOWN_LABELS, containerResource, containerEntity, splitImageReference } from './container-entity.js';
export { ContainerFilter } from './container-filter.js';
// The engine client lives in @sextant/docker-engine (shared with the swarm plugin); re-exported for existing importers.
export { EngineClient, engineSocketError, containerInfoFromInspect, MIN_API_VERSION, MAX_API_VERSION } from '@sextant/docker-engine';
export type { ContainerInfo, ContainerPortInfo, EngineEvent, EngineInspect, EngineListEntry, EngineRuntime, EngineVersion } from '@sextant/docker-engine';
export { cgroupVersion, locateContainerCgroup, parseProcCgroup } from './cgroups/cgroup-locator.js';
export type { CgroupLocation, CgroupController } from './cgroups/cgroup-locator.js';
export { CgroupStatsReader } from './cgroups/cgroup-stats-reader.js';
export { Stat, STAT_COUNT } from './cgroups/container-stats.js';
export * from './cgroups/cgroup-file-parsers.js';
export { sumNetDev, NetDevSum } from './network/net-dev.js';
export { SyntheticEngine } from './bench/synthetic-engine.js';
export type { SyntheticContainer } from './bench/synthetic-engine.js';
export { SyntheticHost, SYNTHETIC_RATES, SYNTHETIC_MEMORY } from './bench/synthetic-host.js';
export type { SyntheticHostOptions, SyntheticContainerFiles } from './bench/synthetic-host.js';
