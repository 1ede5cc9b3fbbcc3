/**
 * Claims against the reference coordinator (DESIGN §4, §8): a claim record
 * is stored and acknowledged like any other; the coordinator then pays it
 * (a signed receipt) or refuses it (a signed claim-refused with the
 * amounts). The same record again gets the same answer; nothing is paid
 * twice, beyond what is vested, from epochs not closed, or to a banned node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordLine } from '../../../proofs/envelope.js';
import { packAttFrames, verifyCoordinatorMessage, type Account, type ClaimRefused, type Receipt } from '../../../proofs/messages.js';
import { canonicalize } from '../../../proofs/canonical.js';
import { testKey } from '../../helpers/keys.js';
import { ChainBuilder, CLOSE_DELAY_MS, EPOCH_MS, startLedgerCoordinator, T0, type LedgerCoordinator } from '../../helpers/ledger-fixture.js';
import { SimAgent } from '../../helpers/sim-agent.js';

const CREDIT = 1_000_000;
let setup: LedgerCoordinator;
let agent: SimAgent;
let chain: ChainBuilder;
let earned: number;

const isReceipt = (seq: number) => (m: { t: string }): m is Receipt => m.t === 'receipt' && (m as Receipt).claimSeq === seq;
const isRefusal = (seq: number) => (m: { t: string }): m is ClaimRefused => m.t === 'claim-refused' && (m as ClaimRefused).claimSeq === seq;

/** Sends a claim and waits for its ack; returns its seq. */
async function claim(amount: number, epochs: [number, number]): Promise<number> {
  const rec = chain.claim(amount, epochs, setup.clock.now());
  agent.sendRecords([rec]);
  await agent.waitForAck(rec.record.env.seq);
  return rec.record.env.seq;
}

beforeAll(async () => {
  setup = await startLedgerCoordinator();
  const { coordinator: c, clock } = setup;
  const key = testKey('claims-node');
  agent = await SimAgent.connect({ url: c.url, coordinatorId: c.id, key, claimElapsedUs: 100 });
  expect(await c.challengeNow(key.id)).toBe(true);
  expect(await agent.waitForVerdict()).toMatchObject({ ok: true });
  await clock.advance(55_000);
  chain = new ChainBuilder(key);
  agent.sendRecords([chain.uptime(T0, T0 + 55_000, agent.welcome.beacon.id)]);
  await agent.waitForAck(1);
  await clock.advanceTo(T0 + EPOCH_MS + CLOSE_DELAY_MS);
  const account = await agent.waitFor((m): m is Account => m.t === 'account' && m.epoch === 0);
  earned = account.earned;
  expect(earned).toBe(c.rewardParams.emissionPerEpoch);
  // 25% vests at the end of the epoch.
  expect(account.claimable).toBeGreaterThanOrEqual(earned / 4);
  expect(account.claimable).toBeLessThan(earned / 4 + CREDIT);
});

afterAll(async () => {
  await agent.close();
  await setup.coordinator.close();
});

describe('claims', () => {
  it('pays a vested claim with a signed receipt, writes the ledger and sends the new account', async () => {
    const seq = await claim(100 * CREDIT, [0, 0]);
    const receipt = await agent.waitFor(isReceipt(seq));
    expect(receipt).toMatchObject({ t: 'receipt', claimSeq: seq, amount: 100 * CREDIT, epochs: [0, 0] });
    expect(verifyCoordinatorMessage(receipt, setup.coordinator.id)).toBe(true);
    const stored = await setup.coordinator.store.getClaim(agent.id, seq);
    expect(stored).toMatchObject({ paid: 100 * CREDIT, code: null, to: 'wallet:test', allocations: [{ epoch: 0, amount: 100 * CREDIT }] });
    const account = await agent.waitFor((m): m is Account => m.t === 'account' && m.claimed === 100 * CREDIT);
    expect(account.claimable).toBe(account.vested - 100 * CREDIT);
    expect(verifyCoordinatorMessage(account, setup.coordinator.id)).toBe(true);
  });

  it('the same claim delivered again gets the same receipt and pays nothing more', async () => {
    const first = agent.messages.find((m): m is Receipt => m.t === 'receipt');
    expect(first).toBeDefined();
    const seq = (first as Receipt).claimSeq;
    const before = agent.messages.length;
    const record = chain.records[seq - 1];
    if (record === undefined) throw new Error('no claim record');
    // At least once: the agent resends what it is not sure was stored.
    for (const frame of packAttFrames([recordLine(record.record)])) agent.send(frame);
    const again = await agent.waitFor((m): m is Receipt => m.t === 'receipt' && agent.messages.indexOf(m) >= before);
    expect(canonicalize(again)).toBe(canonicalize(first as Receipt));
    expect(await setup.coordinator.store.listClaims(agent.id)).toHaveLength(1);
    expect((await setup.coordinator.ledger.balances(agent.id)).claimed).toBe(100 * CREDIT);
  });

  it('refuses credits that are earned but not vested yet, with the amounts; the record stays stored and streaming goes on', async () => {
    const seq = await claim(500 * CREDIT, [0, 0]);
    const refusal = await agent.waitFor(isRefusal(seq));
    expect(verifyCoordinatorMessage(refusal, setup.coordinator.id)).toBe(true);
    expect(refusal).toMatchObject({ code: 'not-vested', requested: 500 * CREDIT, claimed: 100 * CREDIT });
    expect(refusal.vested + refusal.unvested).toBe(earned);
    expect(refusal.claimable).toBe(refusal.vested - 100 * CREDIT);
    expect(refusal.message).toMatch(/only 150\.\d+ of epochs 0\.\.0 have vested/);
    expect(await setup.coordinator.store.getRecord(agent.id, seq)).not.toBeNull();
    expect(await setup.coordinator.store.getClaim(agent.id, seq)).toMatchObject({ paid: 0, code: 'not-vested', allocations: [] });
    // Not a rejected record: the next one is taken.
    const next = chain.uptime(setup.clock.now() - 1000, setup.clock.now(), agent.welcome.beacon.id);
    agent.sendRecords([next]);
    await agent.waitForAck(next.record.env.seq);
    expect(agent.nacks).toEqual([]);
  });

  it('refuses more than was ever earned (over-claim) and epochs not closed (bad-epochs)', async () => {
    const over = await claim(5_000 * CREDIT, [0, 0]);
    expect(await agent.waitFor(isRefusal(over))).toMatchObject({ code: 'over-claim', requested: 5_000 * CREDIT, claimed: 100 * CREDIT });
    const open = await claim(CREDIT, [0, 1]);
    const refused = await agent.waitFor(isRefusal(open));
    expect(refused).toMatchObject({ code: 'bad-epochs' });
    expect(refused.message).toMatch(/the last closed is 0/);
    const reversed = await claim(CREDIT, [1, 0]);
    expect(await agent.waitFor(isRefusal(reversed))).toMatchObject({ code: 'bad-epochs' });
    expect((await setup.coordinator.ledger.balances(agent.id)).claimed).toBe(100 * CREDIT);
  });

  it('a claim with a bad signature is rejected at ingest (bad-signature): not stored, not answered', async () => {
    const rec = chain.claim(CREDIT, [0, 0], setup.clock.now());
    const seq = rec.record.env.seq;
    const forged = { env: rec.record.env, sig: `${rec.record.sig.slice(0, 127)}${rec.record.sig.endsWith('0') ? '1' : '0'}` };
    agent.send({ t: 'att', items: [forged] });
    expect(await agent.waitForNack()).toMatchObject({ seq, code: 'bad-signature' });
    expect(await setup.coordinator.store.getRecord(agent.id, seq)).toBeNull();
    expect(await setup.coordinator.store.getClaim(agent.id, seq)).toBeNull();
    expect(agent.messages.some((m) => (m.t === 'receipt' || m.t === 'claim-refused') && m.claimSeq === seq)).toBe(false);
    // The properly signed record at that seq is then taken and paid.
    agent.sendRecords([rec]);
    expect(await agent.waitFor(isReceipt(seq))).toMatchObject({ amount: CREDIT });
  });

  it('a banned node is paid nothing: a claim in the frame that proves its equivocation is refused, and it cannot reconnect', async () => {
    const seq = chain.records.length + 1;
    const claimRecord = chain.claim(CREDIT, [0, 0], setup.clock.now());
    // Another record for seq 1, signed by the same key: equivocation.
    const fork = new ChainBuilder(agent.options.key).uptime(T0, T0 + 1, null);
    for (const frame of packAttFrames([recordLine(claimRecord.record), recordLine(fork.record)])) agent.send(frame);
    const refusal = await agent.waitFor(isRefusal(seq));
    expect(refusal).toMatchObject({ code: 'banned', requested: CREDIT });
    expect(refusal.message).toMatch(/banned \(equivocation at seq 1\)/);
    expect((await agent.closed).code).toBe(4010);
    await expect(SimAgent.connect({ url: setup.coordinator.url, coordinatorId: setup.coordinator.id, key: agent.options.key })).rejects.toMatchObject({ closed: { code: 4011 } });
    expect(await setup.coordinator.store.getClaim(agent.id, seq)).toMatchObject({ paid: 0, code: 'banned' });
    expect((await setup.coordinator.ledger.balances(agent.id)).claimed).toBe(101 * CREDIT);
  });
});

describe('claims across a restart', () => {
  it('a claim stored but not decided before a stop is decided at start, and its receipt is sent after the next welcome', async () => {
    const s = await startLedgerCoordinator();
    const key = testKey('claims-restart');
    const a = await SimAgent.connect({ url: s.coordinator.url, coordinatorId: s.coordinator.id, key, claimElapsedUs: 100 });
    expect(await s.coordinator.challengeNow(key.id)).toBe(true);
    await a.waitForVerdict();
    await s.clock.advance(55_000);
    const c = new ChainBuilder(key);
    a.sendRecords([c.uptime(T0, T0 + 55_000, a.welcome.beacon.id)]);
    await a.waitForAck(1);
    await s.clock.advanceTo(T0 + EPOCH_MS + CLOSE_DELAY_MS);
    await a.waitFor((m) => m.t === 'account' && m.epoch === 0);
    await a.close();
    await s.coordinator.close();

    // The claim record is committed as ingest would, but the coordinator stopped before deciding it.
    const { openStore } = await import('../../../coordinator/store/index.js');
    const store = openStore(s.storeUrl);
    const rec = c.claim(10 * CREDIT, [0, 0], s.clock.now());
    const env = rec.record.env;
    expect(
      await store.commitFrames([
        {
          node: key.id,
          baseSeq: 1,
          records: [{ node: key.id, seq: env.seq, hash: rec.hash, kind: env.kind, time: env.time, canonical: rec.canonical, sig: rec.record.sig, receivedAt: s.clock.now() }],
          lastSeen: s.clock.now(),
          skewMs: 0,
          equivocation: null,
        },
      ]),
    ).toEqual([null]);
    expect(await store.undecidedClaims()).toHaveLength(1);
    await store.close();

    const again = await startLedgerCoordinator({ clock: s.clock, storeUrl: s.storeUrl });
    expect(await again.coordinator.store.getClaim(key.id, env.seq)).toMatchObject({ paid: 10 * CREDIT });
    const b = await SimAgent.connect({ url: again.coordinator.url, coordinatorId: again.coordinator.id, key });
    expect(b.welcome.head?.seq).toBe(env.seq);
    expect(await b.waitFor(isReceipt(env.seq))).toMatchObject({ amount: 10 * CREDIT, epochs: [0, 0] });
    expect(await b.waitFor((m): m is Account => m.t === 'account')).toMatchObject({ claimed: 10 * CREDIT });
    await b.close();
    await again.coordinator.close();
  });
});
