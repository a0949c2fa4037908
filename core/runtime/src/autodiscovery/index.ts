/**
 * Autodiscovery: which plugins to start for a container, why, and when.
 * Pure logic over @sextant/plugin-api types; the runtime wires it to the containers collector's
 * topology and to its own addInstance/removeInstance.
 */
export { CONTAINER_ENTITY_KEYS, discoveredContainerFromEntity } from './discovered-container.js';
export type { DiscoveredContainer, ContainerPort } from './discovered-container.js';
export { imageRepositoryPath, imageMatchesPattern } from './image-pattern.js';
export { renderConfigTemplate } from './config-template.js';
export type { TemplateValues, RenderResult } from './config-template.js';
export { PLUGINS_LABEL, matchContainer, explainContainer, parsePluginsLabel, discoveredInstanceKey } from './container-matcher.js';
export type { DiscoveryPlugin, DiscoveryMatch, DiscoveryRejection, ContainerMatchResult } from './container-matcher.js';
export { AutodiscoveryController } from './autodiscovery-controller.js';
export type { AutodiscoveryControllerOptions, DiscoveredInstance } from './autodiscovery-controller.js';
