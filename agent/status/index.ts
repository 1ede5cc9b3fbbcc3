export type { FindingStatus, GpuStatus, LinkState, StatusDocument } from './document.js';
export { renderStatus } from './render.js';
