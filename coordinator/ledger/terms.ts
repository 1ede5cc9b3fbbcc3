/**
 * Vesting terms by epoch: an epoch's earnings vest under the parameters in
 * force when it closed (stored with the epoch), so an operator changing
 * vestImmediatePpm or vestingMs changes future grants, never past ones.
 */
import type { RewardParams } from '../rewards/params.js';
import type { EpochRow } from '../store/ledger-types.js';

export type VestingTerms = Pick<RewardParams, 'vestImmediatePpm' | 'vestingMs'>;

export class VestingTermsBook {
  private readonly byEpoch = new Map<number, VestingTerms>();
  private longest: number;

  /** `current`: the terms for epochs not closed yet. */
  constructor(
    private readonly current: VestingTerms,
    epochs: readonly Pick<EpochRow, 'index' | 'params'>[] = [],
  ) {
    this.longest = current.vestingMs;
    for (const e of epochs) this.add(e);
  }

  add(epoch: Pick<EpochRow, 'index' | 'params'>): void {
    const terms = { vestImmediatePpm: epoch.params.vestImmediatePpm, vestingMs: epoch.params.vestingMs };
    this.byEpoch.set(epoch.index, terms);
    this.longest = Math.max(this.longest, terms.vestingMs);
  }

  of(epoch: number): VestingTerms {
    return this.byEpoch.get(epoch) ?? this.current;
  }

  /** The longest vesting period of any terms known. */
  longestVestingMs(): number {
    return this.longest;
  }
}
