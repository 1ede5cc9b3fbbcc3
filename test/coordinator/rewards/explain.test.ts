import { describe, expect, it } from 'vitest';
import { computeEpoch, credits, explainPayout } from '../../../coordinator/rewards/index.js';
import { EPOCH_START, epochOf, idOf, plainNode, withStake } from './arbitraries.js';
import { creditsText } from '../../../coordinator/rewards/explain.js';

const params = withStake(100);
const nodes = [
  plainNode(idOf(1), 900_000, { stake: 100_000_000, jobs: [{ id: 'j1', fee: 5_000_000, audit: 'passed' }], busyMs: 1_800_000 }),
  plainNode(idOf(2), 160_000, { stake: 10_000_000, coveredMs: 3_240_000 }),
  plainNode(idOf(3), 300_000, { stake: 40_000_000, reputation: null, verdicts: [{ time: EPOCH_START + 5, outcome: 'fail', gflops: 0 }] }),
];
const result = computeEpoch(epochOf(nodes), params);

describe('explainPayout', () => {
  it('states the facts, the score, each part of the payout, and what changes next epoch', () => {
    const n = result.nodes[0]!;
    const text = explainPayout(result, idOf(1), params).join('\n');
    expect(text).toContain('uptime u      100.0000%');
    expect(text).toContain('capacity V    900000 GFLOP/s');
    expect(text).toContain('V needs 90.000000, stake beyond that earns nothing');
    expect(text).toContain(`share         ${(n.score.sharePpm / 10_000).toFixed(4)}% of all scores`);
    expect(text).toContain(`capacity      ${creditsText(n.parts.capacity)} credits`);
    expect(text).toContain(`own fees      ${credits(n.parts.feeReturn)} credits`);
    expect(text).toContain(`total         ${credits(n.payout)} credits`);
    expect(text).toContain('penalties     none');
  });

  it('shows stake limiting counted capacity, and each penalty with its slash and the correlation behind it', () => {
    expect(explainPayout(result, idOf(2), params).join('\n')).toContain('counted V     100000.000000 GFLOP/s');
    const text = explainPayout(result, idOf(3), params).join('\n');
    expect(text).toContain('0 because the latest verdict did not pass');
    expect(text).toContain(`failed-check x1: PoT check failed`);
    expect(text).toContain(`slashed ${credits(result.nodes[2]!.slashed)}`);
    expect(text).toContain('26.6666% of stake failed this epoch');
    expect(text).toContain('(new node)');
    expect(text).toContain('this epoch counted 0');
  });

  it('credits and creditsText print exact micro-credit amounts', () => {
    expect(credits(1_234_567)).toBe('1.234567');
    expect(credits(5)).toBe('0.000005');
    expect(creditsText('1234567.891000')).toBe('1.234567891000');
    expect(creditsText('5.000000')).toBe('0.000005000000');
  });

  it('refuses a node that had no payout', () => {
    expect(() => explainPayout(result, idOf(99), params)).toThrow(/has no payout/);
  });
});
