export { Link, type LinkOptions } from './client.js';
export { Backoff } from './backoff.js';
export type { InventorySource, LinkEvents, LinkJournal, LinkStatus, PotSolution, PotSolver } from './ports.js';
