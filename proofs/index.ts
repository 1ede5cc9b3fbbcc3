export * from './canonical.js';
export * from './keys.js';
export * from './envelope.js';
export * from './chain.js';
export * from './messages.js';
export * from './merkle.js';
export * from './pot.js';
