/**
 * The daemon's earnings desk: the status document's earnings from the
 * coordinator's account, and `capanode claim` (paid, refused, nothing,
 * pending, dry run with the differences from the journal), one at a time.
 */
import { describe, expect, it } from 'vitest';
import { EarningsDesk, parseClaimRequest, type EarningsDeps } from '../../../agent/service/earnings.js';
import { createLogger } from '../../../common/log.js';
import type { ClaimBody } from '../../../proofs/envelope.js';
import { signCoordinatorMessage, type Account } from '../../../proofs/messages.js';
import { testKey } from '../../helpers/keys.js';

const coordinator = testKey('earnings-coordinator');
const node = testKey('earnings-node');

function account(overrides: Partial<Omit<Account, 't' | 'sig'>> = {}): Account {
  return signCoordinatorMessage(
    {
      t: 'account' as const,
      epoch: 3,
      claimEpochs: [1, 3] as [number, number],
      estimate: 2_000_000,
      earned: 8_000_000,
      vested: 3_000_000,
      unvested: 5_000_000,
      claimed: 1_000_000,
      claimable: 2_000_000,
      reputation: 750_000_000_000,
      stake: 10_000_000,
      penalties: [
        { epoch: 2, kind: 'downtime', count: 1, slashed: 0, forfeited: 0, note: 'uptime below 50%: no capacity reward, the epoch counts 0 for reputation' },
        { epoch: 3, kind: 'failed-check', count: 1, slashed: 1_000_000, forfeited: 0, note: 'PoT check failed' },
      ],
      time: 1_764_000_000_000,
      ...overrides,
    },
    coordinator,
  );
}

function desk(over: Partial<EarningsDeps> = {}) {
  const claims: ClaimBody[] = [];
  let seq = 40;
  const deps: EarningsDeps = {
    nodeId: node.id,
    claimTo: null,
    appendClaim: (body) => {
      claims.push(body);
      return Promise.resolve(++seq);
    },
    journalError: () => null,
    journal: () => ({ backlog: 0, rejected: 0 }),
    link: () => ({ state: 'connected', since: 0 }),
    log: createLogger({ level: 'silent' }),
    ...over,
  };
  return { desk: new EarningsDesk(deps), claims };
}

/** The claim's record is committed (the desk waits for the coordinator's answer from then on). */
const journaled = () => new Promise((resolve) => setImmediate(resolve));

const receipt = (claimSeq: number, amount: number, epochs: [number, number]) => signCoordinatorMessage({ t: 'receipt' as const, claimSeq, amount, epochs }, coordinator);

describe('earnings desk', () => {
  it('fills the status earnings from the account; nothing is known before one', () => {
    const { desk: d } = desk();
    expect(d.status()).toMatchObject({ epoch: null, vested: null, claimable: null, reputation: null, penalties: [], lastReceipt: null });
    d.onAccount(account());
    expect(d.status()).toEqual({
      epoch: 3,
      epochEstimate: 2_000_000,
      vested: 3_000_000,
      unvested: 5_000_000,
      claimed: 1_000_000,
      claimable: 2_000_000,
      reputation: 0.75,
      stake: 10_000_000,
      penalties: [
        { epoch: 2, kind: 'downtime', amount: 0, reason: 'uptime below 50%: no capacity reward, the epoch counts 0 for reputation' },
        { epoch: 3, kind: 'failed-check', amount: 1_000_000, reason: 'PoT check failed' },
      ],
      lastReceipt: null,
      updatedAt: 1_764_000_000_000,
    });
  });

  it('claims what is claimable, to config claimTo or the node id or --to, and returns the receipt', async () => {
    const { desk: d, claims } = desk({ claimTo: 'wallet:config' });
    d.onAccount(account());
    const pending = d.claim({ timeoutMs: 5_000 });
    await journaled();
    expect(claims).toEqual([{ amount: 2_000_000, to: 'wallet:config', epochs: [1, 3] }]);
    d.onReceipt(receipt(41, 2_000_000, [1, 3]));
    expect(await pending).toMatchObject({ status: 'paid', claimSeq: 41, amount: 2_000_000, epochs: [1, 3], to: 'wallet:config', receipt: { t: 'receipt', claimSeq: 41 } });
    // Until the next account, what was paid is not claimable again.
    expect(d.status()).toMatchObject({ claimed: 3_000_000, claimable: 0, lastReceipt: { claimSeq: 41, amount: 2_000_000, epochs: [1, 3] } });
    expect(await d.claim({})).toMatchObject({ status: 'nothing' });

    const other = desk();
    other.desk.onAccount(account());
    const p = other.desk.claim({ to: 'wallet:flag' });
    await journaled();
    expect(other.claims[0]?.to).toBe('wallet:flag');
    other.desk.onReceipt(receipt(41, 2_000_000, [1, 3]));
    await p;
    const third = desk();
    third.desk.onAccount(account());
    const q = third.desk.claim({});
    await journaled();
    expect(third.claims[0]?.to).toBe(node.id);
    third.desk.onReceipt(receipt(41, 2_000_000, [1, 3]));
    await q;
  });

  it('reports a refusal with the amounts', async () => {
    const { desk: d } = desk();
    d.onAccount(account());
    const pending = d.claim({});
    await journaled();
    d.onClaimRefused(signCoordinatorMessage({ t: 'claim-refused' as const, claimSeq: 41, code: 'not-vested' as const, message: 'only 1 vested', requested: 2_000_000, vested: 1_500_000, unvested: 5_500_000, claimed: 1_000_000, claimable: 500_000 }, coordinator));
    expect(await pending).toMatchObject({ status: 'refused', claimSeq: 41, code: 'not-vested', requested: 2_000_000, claimable: 500_000, message: 'only 1 vested' });
  });

  it('one claim at a time: an unanswered claim is pending, and another is refused until its answer', async () => {
    const { desk: d, claims } = desk();
    d.onAccount(account());
    expect(await d.claim({ timeoutMs: 1 })).toMatchObject({ status: 'pending', claimSeq: 41, amount: 2_000_000 });
    await expect(d.claim({})).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/claim seq 41 is still waiting/) as unknown });
    // A receipt for another (older) claim, re-sent after a reconnect, does not settle it.
    d.onReceipt(receipt(12, 5, [0, 0]));
    await expect(d.claim({})).rejects.toMatchObject({ code: 'bad-input' });
    d.onReceipt(receipt(41, 2_000_000, [1, 3]));
    d.onAccount(account({ claimable: 700_000, claimEpochs: [3, 3] }));
    const next = d.claim({});
    await journaled();
    d.onReceipt(receipt(42, 700_000, [3, 3]));
    expect(await next).toMatchObject({ status: 'paid', claimSeq: 42 });
    expect(claims.map((c) => c.amount)).toEqual([2_000_000, 700_000]);
  });

  it('nothing to claim, no account yet, a link down or a journal that cannot write: no record is signed', async () => {
    const none = desk();
    none.desk.onAccount(account({ claimable: 0, claimEpochs: null }));
    expect(await none.desk.claim({})).toMatchObject({ status: 'nothing', message: expect.stringMatching(/^nothing is claimable/) as unknown });
    await expect(desk().desk.claim({})).rejects.toMatchObject({ code: 'link-error', message: expect.stringMatching(/has not sent this node its account/) as unknown });
    const down = desk({ link: () => ({ state: 'backoff', since: 0 }) });
    down.desk.onAccount(account());
    await expect(down.desk.claim({})).rejects.toMatchObject({ code: 'link-error', message: expect.stringMatching(/link to the coordinator is backoff/) as unknown });
    const full = desk({ appendClaim: () => Promise.resolve(null), journalError: () => 'journal-full: disk full' });
    full.desk.onAccount(account());
    await expect(full.desk.claim({})).rejects.toMatchObject({ code: 'journal-full', message: expect.stringMatching(/disk full/) as unknown });
    expect([none, down, full].every((x) => x.claims.length === 0)).toBe(true);
  });

  it('--dry-run: what would be claimed, and where the journal and the coordinator differ', async () => {
    const { desk: d, claims } = desk({ journal: () => ({ backlog: 7, rejected: 2 }), link: () => ({ state: 'backoff', since: 0 }) });
    d.onAccount(account());
    const r = await d.claim({ dryRun: true });
    expect(claims).toEqual([]);
    expect(r).toMatchObject({ status: 'dry-run', amount: 2_000_000, epochs: [1, 3], to: node.id, account: { vested: 3_000_000, claimable: 2_000_000, asOf: 1_764_000_000_000 } });
    if (r.status !== 'dry-run') return;
    expect(r.differences.map((x) => [x.kind, x.count ?? null, x.amount ?? null])).toEqual([
      ['link', null, null],
      ['backlog', 5, null],
      ['rejected', 2, null],
      ['unvested', null, 5_000_000],
      ['downtime', 1, 0],
      ['penalty', 1, 1_000_000],
    ]);
    expect(r.differences[1]?.message).toMatch(/5 journaled records have not reached the coordinator/);
    expect(r.differences[5]?.message).toMatch(/^epoch 3: failed-check: PoT check failed \(1\.000000 credits\)/);
  });

  it('parses the control request', () => {
    expect(parseClaimRequest({ to: 'w', dryRun: true, timeoutMs: 5 })).toEqual({ to: 'w', dryRun: true, timeoutMs: 5 });
    expect(parseClaimRequest({})).toEqual({});
    expect(() => parseClaimRequest({ to: '' })).toThrow(/--to must be 1 to 128 characters/);
    expect(() => parseClaimRequest({ to: 'x'.repeat(129) })).toThrow(/--to/);
    expect(() => parseClaimRequest({ dryRun: 'yes' })).toThrow(/dryRun/);
    expect(() => parseClaimRequest({ timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});
