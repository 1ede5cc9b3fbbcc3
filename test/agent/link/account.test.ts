/**
 * The agent's link against the reference coordinator (in-process, on a fake
 * clock): the signed account arrives after welcome and after each epoch
 * close; a claim record from the journal is answered with a receipt; a
 * refused claim is reported as such and its record stays acknowledged, not
 * rejected.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Account, ClaimRefused, Receipt } from '../../../proofs/messages.js';
import { testKey } from '../../helpers/keys.js';
import { ChainBuilder, CLOSE_DELAY_MS, EPOCH_MS, startLedgerCoordinator, T0 } from '../../helpers/ledger-fixture.js';
import { MemoryJournal } from '../../helpers/memory-journal.js';
import { until } from '../../helpers/processes.js';
import { tsSolver } from '../../helpers/ts-solver.js';
import { testLink } from '../../helpers/link.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('link: account and claims', () => {
  it('delivers accounts, receipts and refusals; a refused claim is not a rejected record', async () => {
    const { coordinator: c, clock } = await startLedgerCoordinator();
    cleanup.push(() => c.close());
    const node = testKey('link-account-node');
    const journal = new MemoryJournal(node.id, []);
    const accounts: Account[] = [];
    const receipts: Receipt[] = [];
    const refusals: ClaimRefused[] = [];
    const verdicts: boolean[] = [];
    const solver = tsSolver();
    const link = testLink(c, node, {
      journal,
      // The coordinator's fake clock stands still: the verdict takes the node's own timing.
      solver: { solve: async (ch, signal) => ({ ...(await solver.solve(ch, signal)), elapsedUs: 100 }) },
      events: {
        onAccount: (a) => accounts.push(a),
        onReceipt: (r) => receipts.push(r),
        onClaimRefused: (r) => refusals.push(r),
        onVerdict: (v) => verdicts.push(v.ok),
      },
    });
    link.start();
    cleanup.push(() => link.stop());

    await until(() => accounts.length === 1, 8_000, 'accounts.length === 1');
    expect(accounts[0]).toMatchObject({ epoch: null, earned: 0, claimable: 0, claimEpochs: null, reputation: null });
    expect(await c.challengeNow(node.id)).toBe(true);
    await until(() => verdicts.length === 1, 8_000, 'verdicts.length === 1');
    expect(verdicts).toEqual([true]);

    const chain = new ChainBuilder(node);
    await clock.advance(55_000);
    journal.records.push(chain.uptime(T0, T0 + 55_000, link.latestBeacon()?.id ?? null));
    link.notify();
    await until(() => journal.watermark() === 1, 8_000, 'journal.watermark() === 1');
    await clock.advanceTo(T0 + EPOCH_MS + CLOSE_DELAY_MS);
    await until(() => accounts.some((a) => a.epoch === 0), 8_000, 'accounts.some((a) => a.epoch === 0)');
    const account = accounts.find((a) => a.epoch === 0) as Account;
    expect(account.claimable).toBeGreaterThan(0);
    expect(account.claimEpochs).toEqual([0, 0]);

    journal.records.push(chain.claim(account.claimable, account.claimEpochs as [number, number], clock.now()));
    link.notify();
    await until(() => receipts.length === 1, 8_000, 'receipts.length === 1');
    expect(receipts[0]).toMatchObject({ claimSeq: 2, amount: account.claimable, epochs: [0, 0] });
    await until(() => accounts.some((a) => a.claimed === account.claimable), 8_000, 'accounts.some((a) => a.claimed === account.claimable)');

    journal.records.push(chain.claim(account.unvested, [0, 0], clock.now()));
    link.notify();
    await until(() => refusals.length === 1, 8_000, 'refusals.length === 1');
    expect(refusals[0]).toMatchObject({ claimSeq: 3, code: 'not-vested', requested: account.unvested });
    await until(() => journal.watermark() === 3, 8_000, 'journal.watermark() === 3');
    expect(journal.rejected).toEqual([]);
    expect(link.snapshot()).toMatchObject({ state: 'connected', lastError: null });
  });
});
