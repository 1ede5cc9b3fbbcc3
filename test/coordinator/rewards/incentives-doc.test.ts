/** docs/INCENTIVES.md's worked example is what the engine computes. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeEpoch, credits, REP_ONE, resolveRewardParams, type EpochInput } from '../../../coordinator/rewards/index.js';
import { creditsText } from '../../../coordinator/rewards/explain.js';
import { decimal } from '../../../coordinator/rewards/math.js';

const doc = readFileSync(new URL('../../../docs/INCENTIVES.md', import.meta.url), 'utf8');
const example = doc.slice(doc.indexOf('## 5. Worked example'), doc.indexOf('## 6.'));
const input = JSON.parse(/```json\n([\s\S]*?)```/.exec(example)?.[1] ?? '') as EpochInput;
const params = resolveRewardParams(JSON.parse(/`(\{"stakePerGflops":\d+\})`/.exec(example)?.[1] ?? '') as object);
const result = computeEpoch(input, params);

describe('docs/INCENTIVES.md worked example', () => {
  it('states the budget the engine computes', () => {
    const b = result.budget;
    for (const figure of [credits(b.total), credits(b.work), credits(b.avail)]) expect(example).toContain(`**${figure}**`);
    expect(example).toContain(`${(b.utilisationPpm / 10_000).toFixed(4)}%`);
    expect(example).toContain(`${(b.workFractionPpm / 10_000).toFixed(4)}%`);
    expect(creditsText(b.capacityPot)).toBe('1000.480000000000');
    expect(example).toContain(`f = ${(result.correlation.failingPpm / 10_000).toFixed(4)}%`);
    expect(example).toContain(`${(result.correlation.failedCheckSlashPpm / 10_000).toFixed(4)}%`);
    expect(b.carryOut).toBe(0);
  });

  it('has one table row per node with the engine\'s quotas, payout, slash and next reputation', () => {
    for (const [i, n] of result.nodes.entries()) {
      const row = example.split('\n').find((l) => l.startsWith(`| ${'ABC'[i]} |`)) ?? '';
      const cells = row.split('|').map((c) => c.trim().replace(/\*/g, ''));
      expect(cells[2]).toBe(n.parts.capacity === '0.000000' ? '0' : creditsText(n.parts.capacity));
      expect(cells[4]).toBe(credits(n.parts.pooled));
      expect(cells[6]).toBe(credits(n.payout));
      expect(cells[7]).toBe(n.slashed === 0 ? '0' : credits(n.slashed));
      expect(cells[8]).toBe(decimal(BigInt(n.reputationAfter), BigInt(REP_ONE)));
    }
    expect(example).toContain(`${credits(result.totals.payouts)} = emission + fees`);
    expect(example).toContain(`${credits(result.nodes[2]!.stakeAfter)} remain`);
  });
});
