/** The account and claim-refused messages: strict, bounded, signed like every coordinator message. */
import { describe, expect, it } from 'vitest';
import { CLAIM_REFUSED_CODES, MAX_ACCOUNT_PENALTIES, NACK_CODES, parseCoordinatorMessage, SIGNED_TYPES, signCoordinatorMessage, verifyCoordinatorMessage } from '../../../proofs/messages.js';
import { testKey } from '../../helpers/keys.js';

const coordinator = testKey('claims-messages-coordinator');
const penalty = { epoch: 2, kind: 'failed-check', count: 1, slashed: 5, forfeited: 0, note: 'PoT check failed' };
const account = signCoordinatorMessage(
  {
    t: 'account' as const,
    epoch: 4,
    claimEpochs: [2, 4] as [number, number],
    estimate: 10,
    earned: 100,
    vested: 40,
    unvested: 60,
    claimed: 10,
    claimable: 30,
    reputation: 900_000_000_000,
    stake: 0,
    penalties: [penalty],
    time: 1_764_000_000_000,
  },
  coordinator,
);
const refused = signCoordinatorMessage({ t: 'claim-refused' as const, claimSeq: 7, code: 'over-claim' as const, message: 'too much', requested: 50, vested: 40, unvested: 60, claimed: 10, claimable: 30 }, coordinator);

describe('account and claim-refused', () => {
  it('parse in their documented shape, are signed, and the signature covers the type', () => {
    for (const m of [account, refused, { ...account, epoch: null, claimEpochs: null, estimate: null, reputation: null, penalties: [] }]) {
      expect(parseCoordinatorMessage(m), JSON.stringify(m)).toMatchObject({ ok: true });
    }
    expect(SIGNED_TYPES).toEqual(expect.arrayContaining(['account', 'claim-refused', 'receipt']));
    expect(verifyCoordinatorMessage(account, coordinator.id)).toBe(true);
    expect(verifyCoordinatorMessage(refused, coordinator.id)).toBe(true);
    expect(verifyCoordinatorMessage({ ...account, claimable: 31 }, coordinator.id)).toBe(false);
    expect(verifyCoordinatorMessage({ ...refused, t: 'receipt' }, coordinator.id)).toBe(false);
  });

  it('are strict and bounded', () => {
    const bad: [unknown, RegExp][] = [
      [{ ...account, extra: 1 }, /extra: unknown field/],
      [{ ...account, reputation: 1_000_000_000_001 }, /reputation/],
      [{ ...account, vested: -1 }, /vested/],
      [{ ...account, penalties: Array.from({ length: MAX_ACCOUNT_PENALTIES + 1 }, () => penalty) }, /penalties/],
      [{ ...account, penalties: [{ ...penalty, note: 'x'.repeat(513) }] }, /note/],
      [{ ...account, penalties: [{ ...penalty, kind: 'Bad Kind' }] }, /kind/],
      [{ ...account, claimEpochs: [1] }, /claimEpochs/],
      [{ ...refused, code: 'maybe' }, /code/],
      [{ ...refused, claimSeq: 0 }, /claimSeq/],
      [{ ...refused, message: 'x'.repeat(513) }, /message/],
    ];
    for (const [m, why] of bad) {
      const r = parseCoordinatorMessage(m);
      expect(r.ok, JSON.stringify(m).slice(0, 100)).toBe(false);
      if (!r.ok) expect(r.problem.message).toMatch(why);
    }
  });

  it('a refusal is not a nack: no refusal code is a nack code', () => {
    for (const code of CLAIM_REFUSED_CODES) expect(NACK_CODES as readonly string[]).not.toContain(code);
  });
});
