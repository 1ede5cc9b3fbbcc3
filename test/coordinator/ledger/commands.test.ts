/**
 * `capanode-coordinator ledger` and `stake`, driven through commander
 * in-process over a store a real coordinator closed epochs in: the ledger
 * views (epochs, nodes, one node, one payout explained), JSON, and stake
 * credits that count from the next epoch and are credited once per reference.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { registerLedgerCommand } from '../../../coordinator/commands/ledger.js';
import { registerStakeCommand } from '../../../coordinator/commands/stake.js';
import type { LedgerReport } from '../../../coordinator/ledger/index.js';
import { openStore } from '../../../coordinator/store/index.js';
import type { Receipt } from '../../../proofs/messages.js';
import { testKey } from '../../helpers/keys.js';
import { ChainBuilder, CLOSE_DELAY_MS, EPOCH_MS, startLedgerCoordinator, T0, type LedgerCoordinator } from '../../helpers/ledger-fixture.js';
import { runInProcess } from '../../helpers/in-process-cli.js';
import { SimAgent } from '../../helpers/sim-agent.js';

function run(args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  return runInProcess((program) => {
    registerLedgerCommand(program);
    registerStakeCommand(program);
  }, [...args]);
}

afterEach(() => {
  process.exitCode = 0;
});

const earner = testKey('ledger-cmd-earner');
const idle = testKey('ledger-cmd-idle');
let s: LedgerCoordinator;
const AT = String(T0 + 2 * EPOCH_MS + CLOSE_DELAY_MS);

beforeAll(async () => {
  s = await startLedgerCoordinator();
  const { coordinator: c, clock } = s;
  const a = await SimAgent.connect({ url: c.url, coordinatorId: c.id, key: earner, claimElapsedUs: 100 });
  const b = await SimAgent.connect({ url: c.url, coordinatorId: c.id, key: idle, pot: { kind: 'manual' } });
  expect(await c.challengeNow(earner.id)).toBe(true);
  await a.waitForVerdict();
  // Stake bonded during epoch 0 counts from epoch 1.
  expect(await c.store.creditStake({ ref: 'chain:tx1:0', node: earner.id, amount: 5_000_000, at: T0 + 1_000, source: 'bridge-test', note: null })).toBe(true);
  const chain = new ChainBuilder(earner);
  await clock.advance(55_000);
  a.sendRecords([chain.uptime(T0, T0 + 55_000, a.welcome.beacon.id)]);
  await a.waitForAck(1);
  await clock.advanceTo(T0 + EPOCH_MS + CLOSE_DELAY_MS);
  const claim = chain.claim(100_000_000, [0, 0], clock.now());
  a.sendRecords([claim]);
  await a.waitFor((m): m is Receipt => m.t === 'receipt');
  await clock.advanceTo(T0 + 2 * EPOCH_MS + CLOSE_DELAY_MS);
  await a.close();
  await b.close();
  await c.close();
});

describe('capanode-coordinator ledger', () => {
  it('lists closed epochs and every node with earned, vested, claimed, slashed, burned, stake', async () => {
    const r = await run(['ledger', '--store', s.storeUrl, '--at', AT, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Extract<LedgerReport, { view: 'overview' }>;
    expect(report.view).toBe('overview');
    expect(report.epochs.map((e) => [e.index, e.nodes, e.payouts, e.carryOut])).toEqual([
      [0, 2, 1_000_000_000, 0],
      [1, 2, 0, 1_000_000_000],
    ]);
    const n = report.nodes.find((x) => x.node === earner.id);
    expect(n).toMatchObject({ earned: 1_000_000_000, claimed: 100_000_000, stake: 5_000_000, slashed: 0, burned: 0, banned: false });
    expect(n?.claimable).toBe((n?.vested ?? 0) - 100_000_000);
    const text = await run(['ledger', '--store', s.storeUrl, '--at', AT]);
    expect(text.stdout).toMatch(/^EPOCH +START +NODES +BUDGET +PAID +CARRIED +BURNED +INPUTS HASH/);
    expect(text.stdout).toContain(earner.id);
    expect(text.stdout).toContain('1000.000000');
  });

  it('--epoch N: the epoch budget and each node in it', async () => {
    const r = await run(['ledger', '--store', s.storeUrl, '--epoch', '1', '--at', AT]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^epoch 1 \[/);
    expect(r.stdout).toContain('carried over 1000.000000');
    // No verdict in epoch 1 and no uptime: nothing earned, downtime.
    expect(r.stdout).toMatch(/downtime/);
    const json = JSON.parse((await run(['ledger', '--store', s.storeUrl, '--epoch', '0', '--json', '--at', AT])).stdout) as Extract<LedgerReport, { view: 'epoch' }>;
    expect(Object.fromEntries(json.nodes.map((x) => [x.node, x.earned]))).toEqual({ [earner.id]: 1_000_000_000, [idle.id]: 0 });
  });

  it('--node ID: its epochs and claims; with --epoch, the payout explained from the facts to the share', async () => {
    const node = JSON.parse((await run(['ledger', '--store', s.storeUrl, '--node', earner.id, '--json', '--at', AT])).stdout) as Extract<LedgerReport, { view: 'node' }>;
    expect(node.epochs.map((e) => e.epoch)).toEqual([0, 1]);
    expect(node.claims).toEqual([expect.objectContaining({ seq: 2, requested: 100_000_000, paid: 100_000_000, code: null, epochs: [0, 0] })]);
    // The stake bonded in epoch 0 counted in epoch 1 only.
    const details = await (async () => {
      const store = openStore(s.storeUrl, { readonly: true });
      try {
        return await store.ledgerDetails({ node: earner.id });
      } finally {
        await store.close();
      }
    })();
    expect(details.map((d) => d.facts.stake)).toEqual([0, 5_000_000]);

    const explained = await run(['ledger', '--store', s.storeUrl, '--node', earner.id, '--epoch', '0', '--at', AT]);
    expect(explained.exitCode, explained.stderr).toBe(0);
    expect(explained.stdout).toContain(`node ${earner.id}, epoch 0`);
    expect(explained.stdout).toMatch(/uptime u +91\.6666%: 55000 ms covered by attestations with fresh beacons/);
    expect(explained.stdout).toMatch(/share +100\.0000% of all scores/);
    expect(explained.stdout).toMatch(/total +1000\.000000 credits/);
    expect(explained.stdout).toMatch(/claimed 100\.000000/);
    const json = JSON.parse((await run(['ledger', '--store', s.storeUrl, '--node', idle.id, '--epoch', '0', '--json', '--at', AT])).stdout) as Extract<LedgerReport, { view: 'payout' }>;
    expect(json.view).toBe('payout');
    expect(json.payout.penalties.map((p) => p.kind)).toEqual(['downtime']);
    expect(json.explanation.join('\n')).toMatch(/downtime x1: uptime below 50%/);
  });

  it('says what is wrong with a bad request', async () => {
    const notClosed = await run(['ledger', '--store', s.storeUrl, '--epoch', '9']);
    expect(notClosed.exitCode).toBe(1);
    expect(notClosed.stderr).toMatch(/epoch 9 is not closed \(the last closed is 1\)/);
    expect((await run(['ledger', '--store', s.storeUrl, '--node', 'xyz'])).stderr).toMatch(/--node xyz: must be a node id/);
    expect((await run(['ledger', '--store', s.storeUrl, '--node', 'ab'.repeat(32)])).stderr).toMatch(/has no ledger entries/);
    expect((await run(['ledger', '--store', s.storeUrl, '--epoch', '-1'])).stderr).toMatch(/--epoch -1: must be a non-negative whole number/);
  });
});

describe('capanode-coordinator stake', () => {
  it('credits stake once per reference and reports the bonded balance', async () => {
    const first = await run(['stake', '--store', s.storeUrl, '--node', idle.id, '--amount', '2000000', '--ref', 'op:1', '--json']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ node: idle.id, ref: 'op:1', amount: 2_000_000, credited: true, stake: 2_000_000, knownNode: true });
    const replay = await run(['stake', '--store', s.storeUrl, '--node', idle.id, '--amount', '2000000', '--ref', 'op:1']);
    expect(replay.exitCode).toBe(0);
    expect(replay.stdout).toMatch(/reference op:1 was already credited; nothing changed/);
    expect(replay.stdout).toMatch(/bonded stake now 2\.000000 credits/);
    const fresh = await run(['stake', '--store', s.storeUrl, '--node', 'cd'.repeat(32), '--amount', '1']);
    expect(fresh.stdout).toMatch(/has not connected yet/);
  });

  it('refuses a bad node id or amount', async () => {
    for (const [args, why] of [
      [['--node', 'nope', '--amount', '5'], /--node nope: must be a node id/],
      [['--node', idle.id, '--amount', '0'], /--amount 0: must be a whole number of micro-credits/],
      [['--node', idle.id, '--amount', '1.5'], /--amount 1\.5/],
      [['--node', idle.id, '--amount', '-3'], /--amount -3/],
    ] as const) {
      const r = await run(['stake', '--store', s.storeUrl, ...args]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(why);
    }
  });
});
