/**
 * A payout in words, for the operator of the node: the facts that went in,
 * the score, the share, each penalty, and what changes for the next epoch.
 * Everything printed comes from the EpochResult, so the text and the money
 * cannot disagree.
 */
import { CapanodeError } from '../../common/errors.js';
import { decimal } from './math.js';
import { CREDIT, PPM, REP_ONE, type RewardParams } from './params.js';
import type { EpochResult, NodePayout } from './result.js';

/** Micro-credits as credits with six decimals: 1234567 -> "1.234567". */
export function credits(micro: number): string {
  return decimal(BigInt(micro), BigInt(CREDIT));
}

/** An exact micro-credit decimal ("1234567.891000") in credits ("1.234567891000"). */
export function creditsText(microDecimal: string): string {
  const [whole = '0', frac = ''] = microDecimal.split('.');
  const padded = whole.padStart(7, '0');
  const head = padded.slice(0, -6).replace(/^0+(?=\d)/, '');
  return `${head}.${padded.slice(-6)}${frac}`;
}

function percent(ppm: number, digits = 4): string {
  return `${decimal(BigInt(ppm) * 100n, BigInt(PPM), digits)}%`;
}

function reputation(rep: number): string {
  return decimal(BigInt(rep), BigInt(REP_ONE), 6);
}

function explainParts(n: NodePayout, result: EpochResult, params: RewardParams): string[] {
  const b = result.budget;
  return [
    'payout',
    `  capacity      ${creditsText(n.parts.capacity)} credits: ${percent(n.score.sharePpm)} of the capacity pot ${creditsText(b.capacityPot)} (= B_avail ${credits(b.avail)} + B_work ${credits(b.work)} - all work shares ${creditsText(b.workQuotas)})`,
    `  work share    ${creditsText(n.parts.work)} credits: ${percent(params.workShareCapPpm)} of accepted fees (the cap) or pro rata to fees, whichever is less`,
    `  pooled        ${credits(n.parts.pooled)} credits (both quotas added, rounded down${n.parts.extraMicro ? ', plus one left-over micro-credit for a large remainder' : ''})`,
    `  own fees      ${credits(n.parts.feeReturn)} credits (${percent(params.feeToNodePpm, 0)} of accepted fees)`,
    `  total         ${credits(n.payout)} credits: ${percent(params.vestImmediatePpm, 0)} vest at the end of the epoch, the rest linearly over ${params.vestingMs / 86_400_000} days`,
  ];
}

/** The explanation of one node's payout in one epoch, as lines of text. */
export function explainPayout(result: EpochResult, node: string, params: RewardParams): string[] {
  const n = result.nodes.find((x) => x.node === node);
  if (n === undefined) {
    throw new CapanodeError('bad-input', `node ${node} has no payout in epoch ${result.epoch.index}`, {
      hint: 'Give the full 64-character node id of a node that had facts in that epoch.',
    });
  }
  const f = n.facts;
  const kappa = params.stakePerGflops;
  const lines = [
    `node ${n.node}, epoch ${result.epoch.index} [${result.epoch.startMs}, ${result.epoch.endMs}) ms`,
    'facts',
    `  uptime u      ${percent(f.uptimePpm)}: ${f.coveredMs} ms covered by attestations with fresh beacons`,
    `  capacity V    ${f.capacityGflops} GFLOP/s: median of [${f.capacityWindow.join(', ')}] (the last ${params.capacityWindow} PoT verdicts, a fail or miss counting 0)${f.capacityZeroBecause === 'last-not-passed' ? '; 0 because the latest verdict did not pass' : f.capacityZeroBecause === 'no-verdicts' ? '; 0: no verdict yet' : ''}`,
    `  checks        ${f.checks.passed} passed, ${f.checks.failed} failed, ${f.checks.missed} missed this epoch`,
    `  work W        ${credits(f.acceptedFees)} credits of fees from ${f.acceptedJobs} accepted jobs${f.refundedFees > 0 ? `; ${credits(f.refundedFees)} refunded` : ''}; busy ${f.busyMs} ms`,
    `  stake S       ${credits(f.stake)} credits${kappa === 0 ? ' (no stake required: kappa = 0)' : `; V needs ${credits(n.score.stakeNeeded)}, stake beyond that earns nothing`}`,
    `  reputation    ${reputation(f.reputation)}${f.newNode ? ' (new node)' : ''} at the start of the epoch`,
    'score = reputation x g(u) x min(V, S/kappa)',
    `  g(u)          ${percent(n.score.uptimeWeightPpm)} (u squared; 0 below ${percent(params.uptimeThresholdPpm, 0)} uptime)`,
    `  counted V     ${n.score.collateralisedGflops} GFLOP/s${kappa === 0 ? '' : ` (stake after slashes ${credits(n.stakeAfter)} / kappa ${kappa})`}`,
    `  share         ${percent(n.score.sharePpm)} of all scores`,
    ...explainParts(n, result, params),
  ];
  if (n.penalties.length === 0) lines.push('penalties     none');
  else {
    lines.push('penalties');
    for (const p of n.penalties) {
      const money = [
        p.slashed > 0 ? `slashed ${credits(p.slashed)}` : '',
        p.slashPpm > 0 && p.kind !== 'fraud' ? `at ${percent(p.slashPpm)} per event (correlation: ${percent(result.correlation.failingPpm)} of stake failed this epoch)` : '',
        p.forfeited > 0 ? `forfeited ${credits(p.forfeited)} unvested` : '',
        p.refunded > 0 ? `refunded ${credits(p.refunded)} of fees` : '',
      ].filter((s) => s !== '');
      lines.push(`  ${p.kind} x${p.count}: ${p.note}${money.length > 0 ? `; ${money.join(', ')}` : ''}`);
    }
  }
  lines.push(
    'next epoch',
    `  reputation    ${reputation(n.reputationAfter)} (this epoch counted ${n.reliable ? '1' : '0'}; half-life ${params.reputationHalfLifeMs / 86_400_000} days)`,
    `  stake         ${credits(n.stakeAfter)} credits${n.banned ? ' (banned)' : ''}`,
  );
  return lines;
}
