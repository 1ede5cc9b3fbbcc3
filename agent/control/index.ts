export { startControlServer, type ControlHandler, type ControlServer, type ControlServerOptions } from './server.js';
export { controlRequest } from './client.js';
export { ControlRequestSchema, type ControlRequest, type ControlResponse } from './protocol.js';
