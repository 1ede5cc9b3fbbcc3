/**
 * Two coordinator processes' worth of coordinators on one store (same key,
 * same database): one session per node across both, a node's chain moving
 * from one to the other with nothing lost or doubled, and an epoch closed
 * from both at once written once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { testKey } from '../../helpers/keys.js';
import { ChainBuilder, EPOCH_MS, CLOSE_DELAY_MS, FakeClock, startLedgerCoordinator, T0, type LedgerCoordinator } from '../../helpers/ledger-fixture.js';
import { freshStoreUrl, STORE_KINDS } from '../../helpers/postgres.js';
import { SimAgent } from '../../helpers/sim-agent.js';

const open: LedgerCoordinator[] = [];
const agents: SimAgent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) a.kill();
  for (const c of open.splice(0)) await c.coordinator.close();
});

describe.each(STORE_KINDS)('two coordinators on one %s store', (kind) => {
  async function pair() {
    const storeUrl = await freshStoreUrl(kind);
    const clock = new FakeClock();
    const key = testKey('shared-coordinator');
    const one = await startLedgerCoordinator({ storeUrl, clock, key });
    open.push(one);
    const two = await startLedgerCoordinator({ storeUrl, clock, key });
    open.push(two);
    return { one, two, clock };
  }

  it('refuses a node on one while the other holds its session, and takes it over with nothing lost or doubled', async () => {
    const { one, two } = await pair();
    const node = testKey('roaming-node');
    const chain = new ChainBuilder(node);
    const connect = (c: LedgerCoordinator) => SimAgent.connect({ url: c.coordinator.url, coordinatorId: c.coordinator.id, key: node });
    const first = await connect(one);
    agents.push(first);
    await expect(connect(two)).rejects.toMatchObject({ closed: { code: 4003 } });
    for (let i = 0; i < 5; i++) chain.uptime(T0 + i * 1_000, T0 + (i + 1) * 1_000, null);
    first.sendRecords(chain.records.slice(0, 5));
    await first.waitForAck(5);
    // The first coordinator goes away (its sessions end, its leases are released); the node moves.
    await one.coordinator.close();
    open.splice(open.indexOf(one), 1);
    const second = await connect(two);
    agents.push(second);
    expect(second.welcome.head?.seq).toBe(5);
    for (let i = 5; i < 8; i++) chain.uptime(T0 + i * 1_000, T0 + (i + 1) * 1_000, null);
    // Resent from an older point: duplicates are acknowledged, not stored twice.
    second.sendRecords(chain.records.slice(3, 8));
    await second.waitForAck(8);
    const store = two.coordinator.store;
    expect((await store.getNode(node.id))?.headSeq).toBe(8);
    expect([...(await store.storedHashes(node.id, 1, 100)).keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('a lease left by a process that died lapses, and another process takes the node', async () => {
    const { two, clock } = await pair();
    const node = testKey('orphaned-node');
    // A process that died with -9 left its lease behind.
    expect(await two.coordinator.store.claimSession(node.id, 'dead-process', clock.now(), 30_000)).toBe(true);
    const connect = () => SimAgent.connect({ url: two.coordinator.url, coordinatorId: two.coordinator.id, key: node });
    await expect(connect()).rejects.toMatchObject({ closed: { code: 4003 } });
    await clock.advance(30_001);
    const agent = await connect();
    agents.push(agent);
    expect(two.coordinator.connected()).toContain(node.id);
  });

  it('an epoch closed from both at once is written once', async () => {
    const { one, two, clock } = await pair();
    await clock.advanceTo(T0 + EPOCH_MS + CLOSE_DELAY_MS + 1);
    const [a, b] = await Promise.all([one.coordinator.epochs.close(0), two.coordinator.epochs.close(0)]);
    expect([a.written, b.written].filter(Boolean).length).toBeLessThanOrEqual(1);
    expect(a.epoch.inputsHash).toBe(b.epoch.inputsHash);
    expect(a.consistent && b.consistent).toBe(true);
    expect((await one.coordinator.store.listEpochs()).filter((e) => e.index === 0)).toHaveLength(1);
  });
});
