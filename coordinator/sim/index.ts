/** The adversarial economic simulator: strategies against the real reward engine, and its report. */
export { simulate, SIM_REWARD_PARAMS, type OperatorTally, type SimOptions, type SimRun } from './run.js';
export { buildReport, type SimReport, type StrategyReport } from './report.js';
export { renderHtml } from './html.js';
export { allocate, DEFAULT_MIX, parseMix, STRATEGY_NAMES, type Mix, type StrategyName } from './mix.js';
export { DEFAULT_MECHANICS, shares, type ChallengeSchedule, type Mechanics } from './mechanics.js';
export { Prng } from './prng.js';
export { STRATEGIES } from './strategies/index.js';
