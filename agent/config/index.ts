export { ConfigSchema, CONFIG_KEYS, envName, WORKLOAD_KIND_VALUES, type Config, type ConfigKey } from './schema.js';
export { loadConfig, type LoadConfigOptions } from './load.js';
export { resolvePaths, SYSTEM_PATHS, type AgentPaths, type PathOptions } from './paths.js';
