export { createMetricsRegistry } from './registry.js';
export { startMetricsServer, parseListen, type MetricsServer } from './server.js';
