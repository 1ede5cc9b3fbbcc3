/** The ledger's money side: balances and vesting, claim decisions, accounts for nodes. */
export { allocate, claimableRange, claimedByEpoch, nodeBalances, rangeAmounts, sumAmounts, type Amounts, type Balances, type EpochBalance } from './balances.js';
export { judgeClaim, type ClaimContext, type ClaimJudgement } from './judge.js';
export { Ledger, type ClaimDecision, type ClaimMessage, type LedgerDeps } from './ledger.js';
export { VestingTermsBook, type VestingTerms } from './terms.js';
export { ledgerReport, type ClaimLine, type EpochLine, type LedgerQuery, type LedgerReport, type NodeEpochLine, type NodeTotals } from './report.js';
