/**
 * When challenge rounds happen: a function of the coordinator's secret key
 * and its two interval settings only, so every coordinator process that
 * shares the key and the settings derives the same rounds (each challenges
 * the nodes whose sessions it holds), and no node can compute them.
 *
 * Time (wall-clock ms since the Unix epoch) is cut into eras of 64 mean
 * intervals, mean = (min + max) / 2. Era e's rounds form a chain from the
 * era's start: each comes a gap after the one before, the first a gap after
 * the era starts, each gap uniform in [min, max] and drawn from
 *
 *   K   = HMAC-SHA256(coordinator secret key, "capanode:pot:rounds:v1")
 *   gap = min + (first 8 bytes of HMAC-SHA256(K, u64be(e) || u32be(j)), big-endian) mod (max - min + 1)
 *
 * (the modulo's bias is below 2^-32 for any gap up to the 30-day maximum). A
 * round at or past the era's end is dropped; the next era's chain starts at
 * its own start. So every gap is in [min, max] except the one across an
 * era boundary (once per ~64 rounds), which is in [min, 2 max); a round is
 * found with about 64 HMACs, from any point in time, with no state.
 */
import { createHmac } from 'node:crypto';

export interface RoundScheduleSettings {
  minIntervalMs: number;
  maxIntervalMs: number;
}

/** One round: era and index within it identify it in every process. */
export interface Round {
  era: number;
  index: number;
  /** Wall-clock ms since the Unix epoch. */
  at: number;
}

const KEY_LABEL = 'capanode:pot:rounds:v1';
export const ROUNDS_PER_ERA = 64;

/** The key rounds are drawn with: HMAC of a fixed label under the coordinator's secret key (its 32-byte seed). */
export function roundKey(secretKey: Uint8Array): Buffer {
  return createHmac('sha256', secretKey).update(KEY_LABEL).digest();
}

export class RoundSchedule {
  readonly eraMs: number;
  private readonly span: bigint;

  constructor(
    private readonly key: Buffer,
    private readonly settings: RoundScheduleSettings,
  ) {
    const { minIntervalMs: min, maxIntervalMs: max } = settings;
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 1 || max < min) throw new RangeError(`round intervals must be integers with 1 <= min <= max (got ${min}, ${max})`);
    this.eraMs = ROUNDS_PER_ERA * Math.floor((min + max) / 2);
    this.span = BigInt(max - min + 1);
  }

  /** The gap before round j of era e. */
  gap(era: number, index: number): number {
    const msg = Buffer.alloc(12);
    msg.writeBigUInt64BE(BigInt(era), 0);
    msg.writeUInt32BE(index, 8);
    const draw = createHmac('sha256', this.key).update(msg).digest().readBigUInt64BE(0);
    return this.settings.minIntervalMs + Number(draw % this.span);
  }

  /** The rounds of era e, in order. */
  *era(era: number): Generator<Round> {
    const end = (era + 1) * this.eraMs;
    let at = era * this.eraMs;
    for (let index = 0; ; index++) {
      at += this.gap(era, index);
      if (at >= end) return;
      yield { era, index, at };
    }
  }

  /** The first round strictly after `afterMs`. */
  next(afterMs: number): Round {
    for (let era = Math.floor(afterMs / this.eraMs); ; era++) {
      for (const round of this.era(era)) if (round.at > afterMs) return round;
    }
  }
}
