/**
 * Reputation rho (DESIGN §8): an exponentially weighted average of per-epoch
 * reliability (1 for an epoch with uptime and no failed check, 0 otherwise)
 * with a half-life: after `reputationHalfLifeMs` of epochs the old value
 * weighs one half. Per epoch:
 *
 *   rho' = rho * d + r * (1 - d),   d = 2^(-epochMs / halfLifeMs)
 *
 * d is held as the integer D = floor(2^53 * d), computed here in integer
 * arithmetic (a 128-bit fixed-point series), so every coordinator, in any
 * language, derives the same D and the same reputations bit for bit; no
 * float is involved. Reputation is an integer in parts per 10^12, rounded
 * half up each epoch: a 14-day half-life of 1-hour epochs lands within 336
 * parts per 10^12 of one half.
 */
import { REP_ONE, type RewardParams } from './params.js';

const FRAC_BITS = 128n;
const ONE = 1n << FRAC_BITS;
export const DECAY_BITS = 53n;
export const DECAY_ONE = 1n << DECAY_BITS;

/** ln 2 = sum over k >= 1 of 1 / (k * 2^k), to 128 fractional bits (each term floored; 140 terms leave < 2^-128 out). */
function ln2Fixed(): bigint {
  let sum = 0n;
  for (let k = 1n; k <= 140n; k++) sum += ONE / (k << k);
  return sum;
}
const LN2 = ln2Fixed();

/** exp(-y) for 0 <= y < 1 in 128-bit fixed point, by its Taylor series (terms shrink below 2^-128 well before n = 60). */
function expNegFixed(y: bigint): bigint {
  let sum = ONE;
  let term = ONE;
  for (let n = 1n; n <= 60n && term !== 0n; n++) {
    term = (term * y) / (ONE * n);
    sum += n % 2n === 1n ? -term : term;
  }
  return sum;
}

const decayCache = new Map<string, bigint>();

/** D = floor(2^53 * 2^(-epochMs / halfLifeMs)). */
export function reputationDecay(params: Pick<RewardParams, 'epochMs' | 'reputationHalfLifeMs'>): bigint {
  const key = `${params.epochMs}/${params.reputationHalfLifeMs}`;
  const cached = decayCache.get(key);
  if (cached !== undefined) return cached;
  const a = BigInt(params.epochMs);
  const b = BigInt(params.reputationHalfLifeMs);
  const whole = a / b; // 2^(-a/b) = 2^-whole * 2^-(rest/b)
  const rest = a % b;
  const frac = expNegFixed((LN2 * rest) / b);
  const decay = (frac << DECAY_BITS) >> (FRAC_BITS + whole);
  decayCache.set(key, decay);
  return decay;
}

/** The reputation a node starts the epoch with: its stored value, or the new-node value. */
export function startingReputation(stored: number | null, params: Pick<RewardParams, 'newNodeReputation'>): number {
  return stored ?? params.newNodeReputation;
}

/** One epoch of the average: rho * d + r * (1 - d), rounded half up; proven fraud sets it to 0. */
export function updateReputation(rho: number, reliable: boolean, params: Pick<RewardParams, 'epochMs' | 'reputationHalfLifeMs'>): number {
  const d = reputationDecay(params);
  const target = reliable ? BigInt(REP_ONE) * (DECAY_ONE - d) : 0n;
  return Number((BigInt(rho) * d + target + (DECAY_ONE >> 1n)) >> DECAY_BITS);
}
