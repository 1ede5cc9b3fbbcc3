/** The coordinator's public surface: embed it (startCoordinator), or reach its parts. */
export { createCoordinator, startCoordinator, type Coordinator, type CoordinatorOptions, type RunningCoordinator } from './coordinator.js';
export { CoordinatorConfigSchema, loadCoordinatorConfig, type CoordinatorConfig, type CoordinatorConfigInput } from './config.js';
export { systemClock, systemRandom, type Clock, type RandomBytes, type TimerHandle } from './clock.js';
export { openStore, openSqliteStore, type Store, type NodeInfo } from './store/index.js';
