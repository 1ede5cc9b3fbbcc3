/**
 * The properties DESIGN §8 asks of the payout, each checked on random epochs
 * with the arithmetic that shows why it holds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeEpoch, DEFAULT_REWARD_PARAMS, PPM, REP_ONE, type NodeEpochFacts } from '../../../coordinator/rewards/index.js';
import { acceptedFeesOf, EPOCH_START, epochOf, factsArb, fixed, idOf, nodeIdArb, nodesArb, payoutOf, plainNode, shuffled, withStake } from './arbitraries.js';

const P = DEFAULT_REWARD_PARAMS;
const RUNS = { numRuns: 150 };

describe('conservation: the budget is split exactly', () => {
  it('emission + carry-in + accepted fees = payouts + carry-out, to the micro-credit; burned = stake lost + unvested forfeited', () => {
    fc.assert(
      fc.property(nodesArb(10), fc.integer({ min: 0, max: 10_000_000_000 }), (nodes, carryIn) => {
        const r = computeEpoch(epochOf(nodes, carryIn));
        const inflow = P.emissionPerEpoch + carryIn + acceptedFeesOf(nodes);
        const paid = r.nodes.reduce((s, n) => s + n.payout, 0);
        expect(paid + r.budget.carryOut).toBe(inflow);
        expect(r.totals.payouts).toBe(paid);
        // Each payout is its pooled share plus its fee return; pooled shares add up to what was apportioned.
        for (const n of r.nodes) expect(n.payout).toBe(n.parts.pooled + n.parts.feeReturn);
        expect(r.nodes.reduce((s, n) => s + n.parts.pooled, 0)).toBe(r.budget.pooled);
        expect(r.budget.total).toBe(r.budget.work + r.budget.avail);
        // Nothing is carried while someone scores, except the fraction of a micro-credit the floor leaves.
        if (r.nodes.some((n) => n.score.value !== '0')) expect(r.budget.carryOut).toBeLessThan(r.nodes.length + 1);
        const stakeLost = nodes.reduce((s, n) => s + n.stake, 0) - r.nodes.reduce((s, n) => s + n.stakeAfter, 0);
        expect(r.totals.slashed).toBe(stakeLost);
        expect(r.totals.burned).toBe(stakeLost + r.nodes.reduce((s, n) => s + n.forfeited, 0));
        for (const n of r.nodes) {
          expect(Number.isSafeInteger(n.payout) && n.payout >= 0).toBe(true);
          expect(n.stakeAfter).toBeGreaterThanOrEqual(0);
        }
      }),
      RUNS,
    );
  });

  it('each pooled share is within one micro-credit of its exact quota (largest remainder)', () => {
    fc.assert(
      fc.property(nodesArb(10), (nodes) => {
        const r = computeEpoch(epochOf(nodes));
        for (const n of r.nodes) {
          // quota = capacity + work, exact to 6 decimals of a micro-credit in the explanation.
          const quota = fixed(n.parts.capacity) + fixed(n.parts.work);
          const pooled = BigInt(n.parts.pooled) * 1_000_000n;
          expect(pooled + 1_000_000n > quota).toBe(true);
          expect(pooled < quota + 2_000_000n).toBe(true);
          expect(pooled >= quota - 1_000_000n).toBe(true);
        }
      }),
      RUNS,
    );
  });
});

describe('order independence and determinism', () => {
  it('the same facts in any order (nodes, jobs, verdicts) give the same result, and JSON in gives the same as objects in', () => {
    fc.assert(
      fc.property(nodesArb(8), fc.array(fc.integer(), { minLength: 1, maxLength: 20 }), (nodes, keys) => {
        const a = computeEpoch(epochOf(nodes));
        const reordered: NodeEpochFacts[] = shuffled(nodes, keys).map((n) => ({ ...n, jobs: shuffled(n.jobs, keys), verdicts: shuffled(n.verdicts, keys) }));
        expect(computeEpoch(epochOf(reordered))).toEqual(a);
        expect(computeEpoch(JSON.parse(JSON.stringify(epochOf(nodes))) as ReturnType<typeof epochOf>)).toEqual(a);
        // The result is plain JSON: nothing is lost in a round trip.
        expect(JSON.parse(JSON.stringify(a))).toEqual(a);
      }),
      { numRuns: 100 },
    );
  });

  it('ties in the remainder go to the smaller node id', () => {
    // Three equal nodes share 10 micro-credits: 3 each and one left over, which goes to the smallest id.
    const params = { ...P, emissionPerEpoch: 10 };
    const nodes = [plainNode(idOf(3), 100), plainNode(idOf(1), 100), plainNode(idOf(2), 100)];
    const r = computeEpoch(epochOf(nodes), params);
    expect(r.nodes.map((n) => n.payout)).toEqual([4, 3, 3]);
    expect(r.nodes.map((n) => n.node)).toEqual([idOf(1), idOf(2), idOf(3)]);
  });
});

/**
 * Splitting node X into k identities, each holding part of X's capacity, stake
 * and jobs, with X's uptime and reputation. score = rho * g(u) * min(V, S/kappa)
 * is linear in (V, S) for fixed rho and u, so the identities' exact quotas add
 * up to X's; the fee return floor(0.9 * W) is superadditive (the parts round
 * down at least as much). Only the largest-remainder rounding can add: at most
 * one micro-credit per identity.
 */
describe('sybil neutrality', () => {
  const splitArb = fc.record({
    others: nodesArb(6),
    x: factsArb({ clean: true }),
    gflops: fc.integer({ min: 0, max: 2_000_000 }),
    stake: fc.integer({ min: 0, max: 1_000_000_000_000 }),
    parts: fc.array(fc.record({ v: fc.integer({ min: 0, max: 100 }), s: fc.integer({ min: 0, max: 100 }) }), { minLength: 2, maxLength: 5 }),
    jobOwner: fc.array(fc.nat(), { maxLength: 8 }),
    kappa: fc.constantFrom(0, 1, 1000),
  });

  /** Splits a total in proportion to weights, the remainder to the first part: parts add up exactly. */
  function splitInt(total: number, weights: number[]): number[] {
    const sum = weights.reduce((s, w) => s + w, 0);
    const parts = weights.map((w) => (sum === 0 ? 0 : Math.floor((total * w) / sum)));
    parts[0] = (parts[0] ?? 0) + total - parts.reduce((s, x) => s + x, 0);
    return parts;
  }

  it('k identities never earn more than the one node they split, beyond one micro-credit each', () => {
    fc.assert(
      fc.property(splitArb, nodeIdArb, ({ others, x, gflops, stake, parts, jobOwner, kappa }, xid) => {
        fc.pre(!others.some((o) => o.node.startsWith('ffff')) && !xid.startsWith('ffff'));
        const params = withStake(kappa);
        const k = parts.length;
        const single: NodeEpochFacts = { ...x, node: xid, verdicts: [{ time: EPOCH_START + 5, outcome: 'pass', gflops }], stake };
        const vs = splitInt(gflops, parts.map((p) => p.v));
        const ss = splitInt(stake, parts.map((p) => p.s));
        const ids = parts.map((_, j) => `ffff${j.toString(16).padStart(60, '0')}`);
        const identities: NodeEpochFacts[] = ids.map((id, j) => ({
          ...single,
          node: id,
          verdicts: [{ time: EPOCH_START + 5, outcome: 'pass', gflops: vs[j] ?? 0 }],
          stake: ss[j] ?? 0,
          unvested: 0,
          jobs: single.jobs.filter((_, i) => (jobOwner[i] ?? 0) % k === j),
        }));
        const alone = computeEpoch(epochOf([...others.filter((o) => o.node !== xid), single]), params);
        const split = computeEpoch(epochOf([...others.filter((o) => o.node !== xid), ...identities]), params);
        const group = ids.reduce((s, id) => s + payoutOf(split, id), 0);
        expect(group).toBeLessThanOrEqual(payoutOf(alone, xid) + k);
      }),
      RUNS,
    );
  });

  it('new identities start at reputation 0.5, so splitting an established node loses', () => {
    const others = [plainNode(idOf(1), 500_000), plainNode(idOf(2), 800_000)];
    const x = plainNode(idOf(9), 400_000, { reputation: REP_ONE });
    const identities = [0, 1, 2, 3].map((j) => plainNode(idOf(100 + j), 100_000, { reputation: null }));
    const alone = payoutOf(computeEpoch(epochOf([...others, x])), idOf(9));
    const split = computeEpoch(epochOf([...others, ...identities]));
    const group = identities.reduce((s, n) => s + payoutOf(split, n.node), 0);
    expect(group).toBeLessThan(alone * 0.6);
  });
});

/**
 * More verified contribution (V, uptime, reputation, accepted fees, stake up
 * to its collateral) never lowers the exact quota: the score rises and the
 * capacity pot does not fall. The payout, rounded by largest remainder, can
 * lose at most the one micro-credit of rounding (Hamilton's method is not
 * population-monotone), and cannot lose even that when the quota rose by a
 * whole micro-credit.
 */
describe('monotonicity', () => {
  const changeArb = fc.oneof(
    fc.record({ kind: fc.constant('gflops' as const), by: fc.integer({ min: 1, max: 500_000 }) }),
    fc.record({ kind: fc.constant('uptime' as const), by: fc.integer({ min: 1, max: P.epochMs }) }),
    fc.record({ kind: fc.constant('reputation' as const), by: fc.integer({ min: 1, max: REP_ONE }) }),
    fc.record({ kind: fc.constant('fees' as const), by: fc.integer({ min: 1, max: 100_000_000 }) }),
    fc.record({ kind: fc.constant('stake' as const), by: fc.integer({ min: 1, max: 1_000_000_000 }) }),
  );

  function improve(x: NodeEpochFacts, change: { kind: 'gflops' | 'uptime' | 'reputation' | 'fees' | 'stake'; by: number }): NodeEpochFacts {
    switch (change.kind) {
      case 'gflops':
        return { ...x, verdicts: x.verdicts.map((v) => (v.outcome === 'pass' ? { ...v, gflops: v.gflops + change.by } : v)) };
      case 'uptime':
        return { ...x, coveredMs: Math.min(P.epochMs, x.coveredMs + change.by) };
      case 'reputation':
        return { ...x, reputation: Math.min(REP_ONE, (x.reputation ?? P.newNodeReputation) + change.by) };
      case 'fees':
        return { ...x, jobs: [...x.jobs, { id: 'extra-job', fee: change.by, audit: 'none' }] };
      default:
        return { ...x, stake: x.stake + change.by };
    }
  }

  it('improving one node\'s facts never lowers its exact quota, nor its payout beyond one micro-credit', () => {
    fc.assert(
      fc.property(nodesArb(6, { clean: true }), factsArb({ clean: true }), nodeIdArb, changeArb, fc.constantFrom(0, 1, 1000), (others, xf, xid, change, kappa) => {
        const params = withStake(kappa);
        const rest = others.filter((o) => o.node !== xid);
        const x: NodeEpochFacts = { ...xf, node: xid };
        const before = computeEpoch(epochOf([...rest, x]), params);
        const after = computeEpoch(epochOf([...rest, improve(x, change)]), params);
        const b = before.nodes.find((n) => n.node === xid);
        const a = after.nodes.find((n) => n.node === xid);
        if (a === undefined || b === undefined) throw new Error('missing node');
        const quota = (n: typeof a) => fixed(n.parts.capacity) + fixed(n.parts.work) + BigInt(n.parts.feeReturn) * 1_000_000n;
        expect(quota(a) >= quota(b)).toBe(true);
        expect(a.payout).toBeGreaterThanOrEqual(b.payout - 1);
        if (quota(a) >= quota(b) + 1_000_000n) expect(a.payout).toBeGreaterThanOrEqual(b.payout);
      }),
      RUNS,
    );
  });
});

/** min(V, S/kappa): once S >= kappa * V the minimum is V, so more stake changes no score and no payout. */
describe('stake beyond the collateral earns nothing', () => {
  it('adding stake above kappa * V changes no payout of any node', () => {
    fc.assert(
      fc.property(nodesArb(6, { clean: true }), nodeIdArb, fc.integer({ min: 0, max: 2_000_000 }), fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 1, max: 1_000_000_000 }), fc.constantFrom(1, 7, 1000), (others, xid, gflops, above, extra, kappa) => {
        const params = withStake(kappa);
        const rest = others.filter((o) => o.node !== xid);
        const needed = gflops * kappa;
        const x = plainNode(xid, gflops, { stake: needed + above });
        const base = computeEpoch(epochOf([...rest, x]), params);
        const more = computeEpoch(epochOf([...rest, { ...x, stake: x.stake + extra }]), params);
        expect(more.nodes.map((n) => n.payout)).toEqual(base.nodes.map((n) => n.payout));
        expect(more.nodes.find((n) => n.node === xid)?.score.stakeNeeded).toBe(needed);
      }),
      RUNS,
    );
  });

  it('below the collateral, stake counts: half the stake, half the counted capacity', () => {
    const params = withStake(1000);
    const r = computeEpoch(epochOf([plainNode(idOf(1), 1000, { stake: 500_000 }), plainNode(idOf(2), 1000, { stake: 1_000_000 })]), params);
    expect(r.nodes.map((n) => n.score.collateralisedGflops)).toEqual(['500.000000', '1000.000000']);
    expect(r.nodes[0]!.score.sharePpm).toBe(333_333);
  });
});

/**
 * A node paying fees F to itself gets back 90% of F, a work share of at most
 * cap * F = 2% of F, and its score share s of the capacity pot's growth,
 * which is the 10% fee cut less the work shares it funds: 8% of F. So the
 * dealer gets back at most 0.9F + 0.02F + 0.08sF = F - 0.08(1 - s)F: a loss
 * for any node holding less than all of the score.
 */
describe('self-dealt jobs lose money', () => {
  it('a node wash-trading F gets back less than F: at most F - 0.08(1-s)F, plus rounding', () => {
    fc.assert(
      fc.property(nodesArb(6), factsArb(), nodeIdArb, fc.integer({ min: 1, max: 1_000_000_000_000 }), (others, xf, xid, fee) => {
        const rest = others.filter((o) => o.node !== xid);
        const x: NodeEpochFacts = { ...xf, node: xid, fraud: [] };
        const before = computeEpoch(epochOf([...rest, x]));
        const dealt: NodeEpochFacts = { ...x, jobs: [...x.jobs, { id: 'self-dealt', fee, audit: 'passed' }], busyMs: x.coveredMs };
        const after = computeEpoch(epochOf([...rest, dealt]));
        const b = before.nodes.find((n) => n.node === xid);
        const a = after.nodes.find((n) => n.node === xid);
        if (a === undefined || b === undefined) throw new Error('missing node');
        const gain = a.payout - b.payout;
        // The work share it can capture is at most 2% of F, less than the 10% it paid into the budget.
        expect(fixed(a.parts.work) - fixed(b.parts.work)).toBeLessThanOrEqual(BigInt(Math.floor((fee * P.workShareCapPpm) / PPM) + 1) * 1_000_000n);
        // sharePpm is rounded down: (sharePpm + 1) / 1e6 is at least the true share s.
        const s = (a.score.sharePpm + 1) / PPM;
        // +3: the fee return's floor, the fee cut's floor and the apportionment's rounding.
        expect(gain).toBeLessThanOrEqual(fee - Math.floor(0.08 * (1 - s) * fee) + 3);
        if (s < 0.99 && fee >= 10_000) expect(gain).toBeLessThan(fee);
      }),
      RUNS,
    );
  });
});

describe('penalties in the payout', () => {
  it('a failed check slashes 10% of stake, more when many fail together; fraud takes all stake and unvested credits', () => {
    const params = withStake(1);
    const nodes = [
      plainNode(idOf(1), 1000, { stake: 1_000_000 }),
      plainNode(idOf(2), 1000, { stake: 1_000_000, verdicts: [{ time: EPOCH_START + 9, outcome: 'fail', gflops: 0 }] }),
      plainNode(idOf(3), 1000, { stake: 8_000_000 }),
      plainNode(idOf(4), 1000, { stake: 0, unvested: 5_000_000, fraud: [{ kind: 'equivocation', evidence: 'seq 3' }], jobs: [{ id: 'a', fee: 7, audit: 'none' }] }),
    ];
    const r = computeEpoch(epochOf(nodes), params);
    // 1 of 10 credits of stake failing: f = 10%, p = 10% + 90% * min(1, 3 * 10%) = 37%.
    expect(r.correlation.failingPpm).toBe(100_000);
    expect(r.correlation.failedCheckSlashPpm).toBe(370_000);
    const failed = r.nodes[1]!;
    expect(failed.slashed).toBe(370_000);
    expect(failed.facts.capacityGflops).toBe(0);
    expect(failed.payout).toBe(0);
    expect(failed.reputationAfter).toBeLessThan(REP_ONE);
    const fraud = r.nodes[3]!;
    expect(fraud).toMatchObject({ payout: 0, forfeited: 5_000_000, banned: true, reputationAfter: 0 });
    expect(fraud.facts.refundedFees).toBe(7);
    expect(r.totals.burned).toBe(370_000 + 5_000_000);
  });

  it('a missed challenge zeroes V and reputation credit but slashes nothing; downtime earns no capacity reward', () => {
    const nodes = [
      plainNode(idOf(1), 1000, { stake: 50, verdicts: [{ time: EPOCH_START + 1, outcome: 'pass', gflops: 1000 }, { time: EPOCH_START + 2, outcome: 'missed', gflops: 0 }] }),
      plainNode(idOf(2), 1000, { coveredMs: P.epochMs / 2 - 1 }),
      plainNode(idOf(3), 1000),
    ];
    const r = computeEpoch(epochOf(nodes), withStake(0));
    expect(r.nodes[0]).toMatchObject({ payout: 0, slashed: 0, reliable: false });
    expect(r.nodes[0]!.penalties.map((p) => p.kind)).toEqual(['missed-challenge']);
    expect(r.nodes[1]).toMatchObject({ payout: 0, reliable: false });
    expect(r.nodes[1]!.penalties.map((p) => p.kind)).toEqual(['downtime']);
    expect(r.nodes[2]!.payout).toBe(P.emissionPerEpoch);
  });

  it('a failed audit refunds that job\'s fee and slashes; the node\'s other jobs still pay', () => {
    const x = plainNode(idOf(1), 1000, { stake: 1_000_000, jobs: [{ id: 'ok', fee: 1_000_000, audit: 'passed' }, { id: 'bad', fee: 3_000_000, audit: 'failed' }] });
    const r = computeEpoch(epochOf([x, plainNode(idOf(2), 1000, { stake: 9_000_000 })]), withStake(1));
    const n = r.nodes[0]!;
    expect(n.facts.acceptedFees).toBe(1_000_000);
    expect(n.parts.feeReturn).toBe(900_000);
    expect(n.penalties[0]).toMatchObject({ kind: 'incorrect-result', count: 1, refunded: 3_000_000, slashPpm: 370_000 });
    expect(r.totals.refundedFees).toBe(3_000_000);
  });

  it('nobody scoring carries the capacity budget to the next epoch', () => {
    const r = computeEpoch(epochOf([plainNode(idOf(1), 0)], 5));
    expect(r.budget.carryOut).toBe(P.emissionPerEpoch + 5);
    expect(r.nodes[0]!.payout).toBe(0);
  });
});

describe('input checks', () => {
  it('rejects duplicate nodes, coverage beyond the epoch and malformed facts, naming each', () => {
    const bad = epochOf([plainNode(idOf(1), 1), plainNode(idOf(1), 1), plainNode(idOf(2), 1, { coveredMs: P.epochMs + 1 })]);
    expect(() => computeEpoch(bad)).toThrow(/appears twice[\s\S]*coveredMs: 3600001 exceeds/);
    expect(() => computeEpoch({ ...epochOf([]), carryIn: -1 })).toThrow(/carryIn/);
    expect(() => computeEpoch(epochOf([{ ...plainNode(idOf(1), 1), stake: 1.5 }]))).toThrow(/stake: must be an integer/);
  });
});
