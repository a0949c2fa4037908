/**
 * @sextant/docker-engine — the Docker Engine API client shared by Sextant components that read a
 * Docker (or Podman) engine: the containers collector and the swarm plugin. A kit package: it
 * depends on @sextant/plugin-api only.
 */
export { EngineClient, engineSocketError, isNotSwarmManager, parseEndpoint, resolveEngineSocket, MIN_API_VERSION, MAX_API_VERSION, MAX_RESPONSE_BYTES } from './engine-client.js';
export type { EngineEndpoint, EngineRuntime, EngineTcpEndpoint, FollowEventsOptions } from './engine-client.js';
export { ResumableEventStream, sinceParameter } from './resumable-event-stream.js';
export type { EventStreamPosition, EventStreamState, ResumableEventStreamOptions } from './resumable-event-stream.js';
export { containerInfoFromInspect } from './engine-types.js';
export type {
  ContainerInfo,
  ContainerPortInfo,
  EngineEvent,
  EngineInfo,
  EngineInspect,
  EngineListEntry,
  EngineSwarmInfo,
  EngineVersion,
  SwarmNode,
  SwarmPortConfig,
  SwarmService,
  SwarmTask,
} from './engine-types.js';
