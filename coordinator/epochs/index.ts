/** Epochs: where they fall, the facts each one is paid from, and the closer that records them. */
export { EpochCloser, type CloseOutcome, type EpochCloserDeps } from './closer.js';
export { epochStake, freshBeaconTime, gatherEpochInput, verdictFact, type GatherOptions } from './facts.js';
export { inputsHash, INPUTS_HASH_VERSION } from './hash.js';
export { epochAt, epochWindow, lastClosable, proposedSchedule, type EpochWindow } from './schedule.js';
