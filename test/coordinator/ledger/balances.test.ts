/** Balances, vesting per epoch, allocation of claims and the claim rules, as pure functions. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocate, claimableRange, judgeClaim, nodeBalances, rangeAmounts, type Balances } from '../../../coordinator/ledger/index.js';
import type { LedgerEntry } from '../../../coordinator/store/index.js';

const terms = () => ({ vestImmediatePpm: 250_000, vestingMs: 1_000 });
const entry = (epoch: number, earned: number, extra: Partial<LedgerEntry> = {}): LedgerEntry => ({
  epoch,
  node: 'n',
  endMs: (epoch + 1) * 100,
  earned,
  slashed: 0,
  forfeited: 0,
  stakeAfter: 0,
  reputationAfter: 500_000_000_000,
  banned: false,
  penalties: [],
  ...extra,
});

describe('balances', () => {
  it('each epoch vests 25% at its end and the rest linearly; claims draw on the epochs they were allocated to', () => {
    const entries = [entry(0, 1000), entry(1, 2000)];
    expect(nodeBalances(entries, [], 50, terms)).toMatchObject({ earned: 3000, vested: 0, unvested: 3000, claimable: 0 });
    expect(nodeBalances(entries, [], 100, terms)).toMatchObject({ vested: 250, claimable: 250 });
    const b = nodeBalances(entries, [{ allocations: [{ epoch: 0, amount: 300 }] }], 600, terms);
    expect(b.epochs).toEqual([
      { epoch: 0, endMs: 100, earned: 1000, vested: 625, unvested: 375, forfeited: 0, claimed: 300, claimable: 325 },
      { epoch: 1, endMs: 200, earned: 2000, vested: 1100, unvested: 900, forfeited: 0, claimed: 0, claimable: 1100 },
    ]);
    expect(b).toMatchObject({ earned: 3000, vested: 1725, claimed: 300, claimable: 1425, frozenAt: null });
    expect(nodeBalances(entries, [], 10_000, terms)).toMatchObject({ vested: 3000, unvested: 0 });
    expect(rangeAmounts(b, 1, 1)).toMatchObject({ earned: 2000, claimable: 1100 });
  });

  it('a ban stops vesting at the end of the epoch that proved the fraud: the rest is forfeited and nothing is claimable', () => {
    const entries = [entry(0, 1000), entry(1, 0, { banned: true, forfeited: 700 })];
    const b = nodeBalances(entries, [], 5_000, terms);
    // Vesting stopped at 200 (the end of epoch 1): 250 + 750 * 100/1000.
    expect(b).toMatchObject({ frozenAt: 200, vested: 325, unvested: 0, forfeited: 675, claimable: 0 });
  });

  it('allocates oldest first within the range and refuses more than is claimable there', () => {
    const b = nodeBalances([entry(0, 1000), entry(1, 1000), entry(2, 1000)], [], 10_000, terms);
    expect(allocate(b, 0, 2, 1500)).toEqual([
      { epoch: 0, amount: 1000 },
      { epoch: 1, amount: 500 },
    ]);
    expect(allocate(b, 1, 2, 1500)).toEqual([
      { epoch: 1, amount: 1000 },
      { epoch: 2, amount: 500 },
    ]);
    expect(allocate(b, 2, 2, 1001)).toBeNull();
    expect(claimableRange(b)).toEqual([0, 2]);
    expect(claimableRange(nodeBalances([entry(0, 0)], [], 10_000, terms))).toBeNull();
  });

  it('whatever is claimed, allocations add up to the amount and no epoch pays out more than it vested', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1e9 }), { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 2e9 }), { maxLength: 10 }), fc.integer({ min: 0, max: 2_000 }), (earned, amounts, at) => {
        const entries = earned.map((e, i) => entry(i, e));
        const claims: { allocations: { epoch: number; amount: number }[] }[] = [];
        for (const amount of amounts) {
          const b: Balances = nodeBalances(entries, claims, at, terms);
          const allocations = allocate(b, 0, entries.length - 1, amount);
          if (allocations === null) {
            expect(amount).toBeGreaterThan(b.claimable);
            continue;
          }
          expect(allocations.reduce((s, a) => s + a.amount, 0)).toBe(amount);
          claims.push({ allocations });
        }
        const after = nodeBalances(entries, claims, at, terms);
        for (const e of after.epochs) expect(e.claimed).toBeLessThanOrEqual(e.vested);
        expect(after.claimed + after.claimable).toBe(after.vested);
      }),
    );
  });
});

describe('judgeClaim', () => {
  const b = nodeBalances([entry(0, 1000), entry(1, 1000)], [{ allocations: [{ epoch: 0, amount: 100 }] }], 150, terms);
  const ctx = { balances: b, lastClosed: 1, banned: false, banReason: null };
  const claim = (amount: number, epochs: [number, number]) => ({ amount, to: 'x', epochs });

  it('pays what is vested and unclaimed in the epochs named', () => {
    // Epoch 0: 250 + 37 vested, 100 claimed; epoch 1: not vested at 150 (its end is 200).
    expect(judgeClaim(claim(187, [0, 1]), ctx)).toMatchObject({ ok: true, allocations: [{ epoch: 0, amount: 187 }] });
  });

  it('names each refusal, with the amounts of the epochs named', () => {
    expect(judgeClaim(claim(188, [0, 1]), ctx)).toMatchObject({ ok: false, code: 'not-vested', amounts: { vested: 287, claimed: 100, claimable: 187, unvested: 1713 } });
    expect(judgeClaim(claim(1901, [0, 1]), ctx)).toMatchObject({ ok: false, code: 'over-claim' });
    expect(judgeClaim(claim(1900, [0, 1]), ctx)).toMatchObject({ ok: false, code: 'not-vested' });
    expect(judgeClaim(claim(1, [1, 2]), ctx)).toMatchObject({ ok: false, code: 'bad-epochs' });
    expect(judgeClaim(claim(1, [1, 0]), ctx)).toMatchObject({ ok: false, code: 'bad-epochs' });
    expect(judgeClaim(claim(1, [0, 0]), { ...ctx, lastClosed: null })).toMatchObject({ ok: false, code: 'bad-epochs', message: expect.stringMatching(/no epoch has closed/) as unknown });
    expect(judgeClaim(claim(1, [0, 0]), { ...ctx, banned: true, banReason: 'equivocation at seq 4' })).toMatchObject({ ok: false, code: 'banned', message: expect.stringMatching(/equivocation at seq 4/) as unknown });
  });
});
