/**
 * Whether a claim is paid (DESIGN §4, §8): the epochs it names must have
 * closed, the node must not be banned, and the amount must be vested and
 * unclaimed in those epochs at the claim's time. A refusal says which rule,
 * with the amounts the ledger held, so the operator can see the difference.
 */
import type { ClaimBody } from '../../proofs/envelope.js';
import type { ClaimRefusedCode } from '../../proofs/messages.js';
import { credits } from '../rewards/explain.js';
import type { ClaimAllocation } from '../store/ledger-types.js';
import { allocate, rangeAmounts, type Amounts, type Balances } from './balances.js';

export type ClaimJudgement =
  | { ok: true; allocations: ClaimAllocation[]; amounts: Amounts }
  | { ok: false; code: ClaimRefusedCode; message: string; amounts: Amounts };

export interface ClaimContext {
  balances: Balances;
  /** The last closed epoch; null before any. */
  lastClosed: number | null;
  banned: boolean;
  banReason: string | null;
}

export function judgeClaim(claim: ClaimBody, ctx: ClaimContext): ClaimJudgement {
  const [first, last] = claim.epochs;
  const all = rangeAmounts(ctx.balances, 0, Number.MAX_SAFE_INTEGER);
  if (ctx.banned) {
    return { ok: false, code: 'banned', message: `this node is banned (${ctx.banReason ?? 'proven fraud'}): its unvested credits were forfeited and nothing is paid`, amounts: all };
  }
  if (ctx.lastClosed === null) return { ok: false, code: 'bad-epochs', message: 'no epoch has closed yet: there is nothing to claim', amounts: all };
  if (first > last || last > ctx.lastClosed) {
    return { ok: false, code: 'bad-epochs', message: `epochs [${first}, ${last}]: must be a range FIRST <= LAST of closed epochs (the last closed is ${ctx.lastClosed})`, amounts: all };
  }
  const amounts = rangeAmounts(ctx.balances, first, last);
  const allocations = allocate(ctx.balances, first, last, claim.amount);
  if (allocations !== null) return { ok: true, allocations, amounts };
  const range = `epochs ${first}..${last}`;
  if (claim.amount <= amounts.earned - amounts.forfeited - amounts.claimed) {
    return {
      ok: false,
      code: 'not-vested',
      message: `requested ${credits(claim.amount)} credits, but only ${credits(amounts.claimable)} of ${range} have vested and are unclaimed (${credits(amounts.unvested)} more are earned and still vesting)`,
      amounts,
    };
  }
  return {
    ok: false,
    code: 'over-claim',
    message: `requested ${credits(claim.amount)} credits, more than ${range} ever paid this node that is not claimed: ${credits(amounts.earned)} earned, ${credits(amounts.claimed)} claimed, ${credits(amounts.claimable)} claimable now`,
    amounts,
  };
}
