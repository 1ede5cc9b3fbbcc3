/**
 * Closing epochs in the reference coordinator, on a fake clock: facts from
 * what the store holds (fresh-beacon uptime, verdicts), one transaction per
 * epoch, idempotent and deterministic re-closes, a logged mismatch when the
 * store changes under a closed epoch, and the account every connected node
 * gets after a close.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.js';
import { gatherEpochInput, inputsHash } from '../../../coordinator/epochs/index.js';
import { VestingTermsBook } from '../../../coordinator/ledger/index.js';
import { computeEpoch } from '../../../coordinator/rewards/index.js';
import { vestedAmount } from '../../../coordinator/rewards/vesting.js';
import { verifyCoordinatorMessage, type Account } from '../../../proofs/messages.js';
import { testKey } from '../../helpers/keys.js';
import { ChainBuilder, CLOSE_DELAY_MS, EPOCH_MS, startLedgerCoordinator, T0, type LedgerCoordinator } from '../../helpers/ledger-fixture.js';
import { SimAgent } from '../../helpers/sim-agent.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function logCapture(): { logger: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger({ level: 'info' }, sink), lines: () => out.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** Node A: a passed PoT and 50 s of uptime with a fresh beacon; node B: uptime citing no beacon and no verdict. */
async function epochZero(setup: LedgerCoordinator) {
  const { coordinator: c, clock } = setup;
  const keyA = testKey('close-a');
  const keyB = testKey('close-b');
  // The coordinator's fake clock stands still, so the verdict takes the node's own timing: 2·64³·2 flops in 100 µs.
  const a = await SimAgent.connect({ url: c.url, coordinatorId: c.id, key: keyA, claimElapsedUs: 100 });
  const b = await SimAgent.connect({ url: c.url, coordinatorId: c.id, key: keyB, pot: { kind: 'manual' } });
  cleanup.push(() => a.close(), () => b.close());
  expect(await c.challengeNow(keyA.id)).toBe(true);
  expect(await a.waitForVerdict()).toMatchObject({ ok: true });
  await clock.advance(50_000);
  const ca = new ChainBuilder(keyA);
  const cb = new ChainBuilder(keyB);
  a.sendRecords([ca.uptime(T0, T0 + 50_000, a.welcome.beacon.id)]);
  b.sendRecords([cb.uptime(T0, T0 + 50_000, null)]);
  await a.waitForAck(1);
  await b.waitForAck(1);
  return { a, b, keyA, keyB, ca, cb };
}

describe('epoch close', () => {
  it('closes by itself after the boundary plus the close delay, pays from fresh-beacon uptime and verdicts, and sends accounts', async () => {
    const setup = await startLedgerCoordinator();
    const { coordinator: c, clock } = setup;
    cleanup.push(() => c.close());
    const { a, keyA, keyB } = await epochZero(setup);

    await clock.advanceTo(T0 + EPOCH_MS + CLOSE_DELAY_MS - 1);
    expect(await c.store.getEpoch(0)).toBeNull();
    await clock.advance(1);
    const epoch = await c.store.getEpoch(0);
    expect(epoch).toMatchObject({ index: 0, startMs: T0, endMs: T0 + EPOCH_MS, untilMs: T0 + EPOCH_MS + CLOSE_DELAY_MS, nodes: 2, carryIn: 0, carryOut: 0 });
    expect(epoch?.inputsHash).toMatch(/^[0-9a-f]{64}$/);
    expect(epoch?.payouts).toBe(c.rewardParams.emissionPerEpoch);

    const rows = await c.store.ledgerDetails({ fromEpoch: 0, toEpoch: 0 });
    const rowA = rows.find((r) => r.node === keyA.id);
    const rowB = rows.find((r) => r.node === keyB.id);
    // A: 50 s of the minute with a fresh beacon, a passed check; it scores alone and earns the whole budget.
    expect(rowA?.facts).toMatchObject({ coveredMs: 50_000, reputation: null, stake: 0, unvested: 0, fraud: [] });
    expect(rowA?.facts.verdicts).toEqual([{ time: T0, outcome: 'pass', gflops: 10 }]);
    expect(rowA?.earned).toBe(c.rewardParams.emissionPerEpoch);
    expect(rowA?.penalties).toEqual([]);
    // B: its uptime cites no beacon, so it covers nothing: downtime, no pay.
    expect(rowB?.facts.coveredMs).toBe(0);
    expect(rowB?.earned).toBe(0);
    expect(rowB?.penalties.map((p) => p.kind)).toEqual(['downtime']);

    const account = await a.waitFor((m): m is Account => m.t === 'account' && m.epoch === 0);
    expect(verifyCoordinatorMessage(account, c.id)).toBe(true);
    const vested = vestedAmount({ amount: c.rewardParams.emissionPerEpoch, startMs: T0 + EPOCH_MS }, account.time, c.rewardParams);
    expect(account).toMatchObject({ epoch: 0, claimEpochs: [0, 0], estimate: c.rewardParams.emissionPerEpoch, earned: c.rewardParams.emissionPerEpoch, vested, claimable: vested, claimed: 0, stake: 0 });
    expect(account.unvested).toBe(c.rewardParams.emissionPerEpoch - vested);
    expect(account.reputation).toBe(rowA?.reputationAfter);
  });

  it('closing twice gives the same ledger and the same inputs hash; the facts hash the same when gathered again', async () => {
    const setup = await startLedgerCoordinator();
    const { coordinator: c, clock } = setup;
    cleanup.push(() => c.close());
    await epochZero(setup);
    await clock.advanceTo(T0 + EPOCH_MS + CLOSE_DELAY_MS);
    const first = await c.store.getEpoch(0);
    const rows = await c.store.ledgerDetails();
    expect(first).not.toBeNull();

    // Records arriving after the close do not change the closed epoch's facts.
    await clock.advance(30_000);
    const again = await c.epochs.close(0);
    expect(again).toMatchObject({ written: false, consistent: true, recomputedHash: first?.inputsHash });
    expect(await c.store.getEpoch(0)).toEqual(first);
    expect(await c.store.ledgerDetails()).toEqual(rows);

    // The stored facts are the engine's whole input: recomputing from them gives the stored payouts and hash.
    const input = await gatherEpochInput(c.store, {
      window: { index: 0, startMs: T0, endMs: T0 + EPOCH_MS, untilMs: T0 + EPOCH_MS + CLOSE_DELAY_MS },
      params: c.rewardParams,
      carryIn: 0,
      termsOf: () => c.rewardParams,
      longestVestingMs: c.rewardParams.vestingMs,
    });
    expect(input.nodes).toEqual(rows.map((r) => r.facts));
    expect(inputsHash(input, c.rewardParams)).toBe(first?.inputsHash);
    expect(computeEpoch(input, c.rewardParams).nodes).toEqual(rows.map((r) => r.payout));
  });

  it('a re-close that finds other inputs logs an error and keeps the stored result', async () => {
    const capture = logCapture();
    const setup = await startLedgerCoordinator({ logger: capture.logger });
    const { coordinator: c, clock } = setup;
    cleanup.push(() => c.close());
    const { keyA } = await epochZero(setup);
    await clock.advanceTo(T0 + EPOCH_MS + CLOSE_DELAY_MS);
    const stored = await c.store.getEpoch(0);
    const rows = await c.store.ledgerDetails();

    // A failed verdict written into the closed epoch behind the closer's back.
    await c.store.insertChallenge({ id: 'late', node: keyA.id, seed: 'ab'.repeat(32), n: 64, reps: 2, k: 4, deadlineMs: 1000, sentAt: T0 + 40_000, state: 'sent' });
    await c.store.recordVerdict({ challenge: 'late', node: keyA.id, ok: false, gflops: 0, reason: 'pot-invalid: wrong-digest: injected', message: '{}', at: T0 + 40_000, state: 'failed', strike: true });
    const outcome = await c.epochs.close(0);
    expect(outcome.written).toBe(false);
    expect(outcome.consistent).toBe(false);
    expect(outcome.recomputedHash).not.toBe(stored?.inputsHash);
    expect(await c.store.getEpoch(0)).toEqual(stored);
    expect(await c.store.ledgerDetails()).toEqual(rows);
    const error = capture.lines().find((l) => l['level'] === 50 && String(l['msg']).includes('different inputs'));
    expect(error).toMatchObject({ epoch: 0, stored: stored?.inputsHash, recomputed: outcome.recomputedHash });
  });

  it('counts uptime only with a beacon that was the latest or the one before it on arrival', async () => {
    const setup = await startLedgerCoordinator({ config: { beaconIntervalMs: 10_000 } });
    const { coordinator: c, clock } = setup;
    cleanup.push(() => c.close());
    const fresh = await SimAgent.connect({ url: c.url, coordinatorId: c.id, key: testKey('beacon-fresh') });
    const stale = await SimAgent.connect({ url: c.url, coordinatorId: c.id, key: testKey('beacon-stale') });
    const unknown = await SimAgent.connect({ url: c.url, coordinatorId: c.id, key: testKey('beacon-unknown') });
    cleanup.push(() => fresh.close(), () => stale.close(), () => unknown.close());
    const b0 = fresh.welcome.beacon;
    await clock.advance(10_000);
    const b1 = await fresh.waitFor((m) => m.t === 'beacon' && m.id !== b0.id);
    await clock.advance(10_000);
    // At T0 + 20 s, b2 is the latest: b1 is one behind (fresh), b0 two behind (stale).
    const at = T0 + 20_000;
    const send = async (agent: SimAgent, beacon: string) => {
      agent.sendRecords([new ChainBuilder(agent.options.key).uptime(at - 20_000, at, beacon)]);
      await agent.waitForAck(1);
    };
    await send(fresh, (b1 as { id: string }).id);
    await send(stale, b0.id);
    await send(unknown, 'ee'.repeat(16));
    await clock.advanceTo(T0 + EPOCH_MS + CLOSE_DELAY_MS);
    const covered = new Map((await c.store.ledgerEntries({ fromEpoch: 0, toEpoch: 0 })).map((e) => [e.node, e]));
    const facts = new Map((await c.store.ledgerDetails({ fromEpoch: 0, toEpoch: 0 })).map((d) => [d.node, d.facts.coveredMs]));
    expect(covered.size).toBe(3);
    expect(facts.get(fresh.id)).toBe(20_000);
    expect(facts.get(stale.id)).toBe(0);
    expect(facts.get(unknown.id)).toBe(0);
  });

  it('on start closes every past epoch not closed yet, in order, carrying what no one earned', async () => {
    const first = await startLedgerCoordinator();
    await first.coordinator.close();
    // Down for five and a half epochs.
    const clock = first.clock;
    await clock.advance(5 * EPOCH_MS + EPOCH_MS / 2);
    const again = await startLedgerCoordinator({ clock, storeUrl: first.storeUrl });
    cleanup.push(() => again.coordinator.close());
    const epochs = await again.coordinator.store.listEpochs();
    expect(epochs.map((e) => e.index)).toEqual([0, 1, 2, 3, 4]);
    const emission = again.coordinator.rewardParams.emissionPerEpoch;
    // No node: each epoch carries its whole budget into the next.
    epochs.forEach((e, i) => expect(e).toMatchObject({ carryIn: i * emission, carryOut: (i + 1) * emission, payouts: 0, startMs: T0 + i * EPOCH_MS }));
    // And keeps going by itself.
    await clock.advanceTo(T0 + 6 * EPOCH_MS + CLOSE_DELAY_MS);
    expect((await again.coordinator.store.lastClosedEpoch())?.index).toBe(5);
  });

  it('refuses to close an epoch early or out of order, and to serve a store whose epochs have another length', async () => {
    const setup = await startLedgerCoordinator();
    const c = setup.coordinator;
    await expect(c.epochs.close(0)).rejects.toThrow(/cannot be closed before/);
    await setup.clock.advanceTo(T0 + 3 * EPOCH_MS);
    await expect(c.epochs.close(2)).rejects.toThrow(/cannot be closed before/);
    await c.close();
    await expect(startLedgerCoordinator({ storeUrl: setup.storeUrl, config: { epochMs: 120_000 } })).rejects.toMatchObject({ code: 'config-invalid', message: expect.stringMatching(/60000 ms long/) as unknown });
    // VestingTermsBook keeps each epoch's own terms.
    const book = new VestingTermsBook({ vestImmediatePpm: 1, vestingMs: 2 }, [{ index: 0, params: { ...c.rewardParams, vestingMs: 99 } }]);
    expect(book.of(0).vestingMs).toBe(99);
    expect(book.of(1).vestingMs).toBe(2);
    expect(book.longestVestingMs()).toBe(99);
  });
});
