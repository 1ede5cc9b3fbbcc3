import type { StrategyName } from '../mix.js';
import type { Strategy } from '../types.js';
import { downgrade } from './downgrade.js';
import { flaky } from './flaky.js';
import { honest } from './honest.js';
import { lazy } from './lazy.js';
import { multiplex } from './multiplex.js';
import { repFraud } from './rep-fraud.js';
import { replay } from './replay.js';
import { spoof } from './spoof.js';
import { sybil } from './sybil.js';
import { uptimeGaming } from './uptime-gaming.js';
import { wash } from './wash.js';
import { whale } from './whale.js';

export const STRATEGIES: Readonly<Record<StrategyName, Strategy>> = {
  honest,
  flaky,
  sybil,
  spoof,
  lazy,
  replay,
  downgrade,
  multiplex,
  'uptime-gaming': uptimeGaming,
  wash,
  whale,
  'rep-fraud': repFraud,
};
