export * from './canonical.js';
export * from './keys.js';
export * from './envelope.js';
export * from './chain.js';
