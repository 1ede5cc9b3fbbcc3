/**
 * Closes epochs: gathers an epoch's facts, hashes them, computes the payouts
 * with the pure engine, and writes the epoch row and every node's ledger
 * row in one transaction. Runs by itself a little after each boundary (the
 * close delay) on an injectable clock; on start it first closes, in order,
 * every past epoch not closed yet.
 *
 * Idempotent: closing a closed epoch recomputes its inputs hash and must
 * find the stored one. A different hash means the store or the parameters
 * changed under a closed epoch: that is logged as an error and the stored
 * result is kept (money already counted is never recounted).
 */
import { CapanodeError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { VestingTermsBook } from '../ledger/terms.js';
import { computeEpoch } from '../rewards/payout.js';
import type { RewardParams } from '../rewards/params.js';
import type { NodeEpochFacts } from '../rewards/facts.js';
import type { EpochResult, NodePayout } from '../rewards/result.js';
import type { EpochRow, EpochSchedule, LedgerDetail } from '../store/ledger-types.js';
import type { Store } from '../store/types.js';
import { gatherEpochInput } from './facts.js';
import { inputsHash } from './hash.js';
import { epochWindow, lastClosable } from './schedule.js';

export interface EpochCloserDeps {
  store: Store;
  schedule: EpochSchedule;
  params: RewardParams;
  closeDelayMs: number;
  clock: Clock;
  terms: VestingTermsBook;
  log: Logger;
  /** Called after an epoch is newly closed (not on a re-close). */
  onClosed?(epoch: EpochRow): void;
}

export interface CloseOutcome {
  epoch: EpochRow;
  /** False when the epoch was already closed and only checked. */
  written: boolean;
  /** The hash of the facts gathered now; equal to epoch.inputsHash unless the store changed under a closed epoch. */
  recomputedHash: string;
  consistent: boolean;
}

/** How long to wait before trying again after a close failed (the store was unavailable). */
const RETRY_MS = 30_000;

export class EpochCloser {
  private timer: TimerHandle | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly deps: EpochCloserDeps) {
    if (deps.params.epochMs !== deps.schedule.epochMs) {
      throw new CapanodeError('config-invalid', `reward epochMs ${deps.params.epochMs} differs from the store's epoch length ${deps.schedule.epochMs}`, { hint: 'a coordinator bug: build the closer from the stored schedule' });
    }
  }

  get schedule(): EpochSchedule {
    return this.deps.schedule;
  }

  /** Closes every past epoch not closed yet, in order, then keeps closing each one after its boundary. */
  async start(): Promise<void> {
    await this.closeDue();
    this.arm();
  }

  /** Stops the schedule; waits for a close in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.chain.catch(() => undefined);
  }

  /** Closes (or re-checks) one epoch; closes run one at a time. */
  close(index: number): Promise<CloseOutcome> {
    return this.serial(() => this.closeOne(index));
  }

  /** Closes every epoch that can be closed now and is not; returns those newly closed. */
  closeDue(): Promise<EpochRow[]> {
    return this.serial(async () => {
      const last = lastClosable(this.deps.schedule, this.deps.clock.now(), this.deps.closeDelayMs);
      const closed = await this.deps.store.lastClosedEpoch();
      const out: EpochRow[] = [];
      for (let i = (closed?.index ?? -1) + 1; i <= last && !this.stopped; i++) {
        const r = await this.closeOne(i);
        if (r.written) out.push(r.epoch);
      }
      return out;
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private arm(): void {
    if (this.stopped) return;
    const { schedule, closeDelayMs, clock } = this.deps;
    const next = lastClosable(schedule, clock.now(), closeDelayMs) + 1;
    const delay = Math.max(0, epochWindow(schedule, next, closeDelayMs).untilMs - clock.now());
    this.timer = clock.after(delay, () => {
      this.closeDue().then(
        () => this.arm(),
        (e: unknown) => {
          this.deps.log.error({ err: e }, `could not close epoch ${next}; retrying in ${RETRY_MS / 1000} s`);
          if (!this.stopped) this.timer = clock.after(RETRY_MS, () => this.arm());
        },
      );
    });
  }

  private async closeOne(index: number): Promise<CloseOutcome> {
    const { store, schedule, params, closeDelayMs, clock, terms, log } = this.deps;
    const window = epochWindow(schedule, index, closeDelayMs);
    if (window.untilMs > clock.now()) {
      throw new CapanodeError('bad-input', `epoch ${index} cannot be closed before ${new Date(window.untilMs).toISOString()} (its end plus the close delay)`, {
        hint: 'Records for it may still arrive; it closes by itself then.',
      });
    }
    const previous = index === 0 ? null : await store.getEpoch(index - 1);
    if (index > 0 && previous === null) {
      throw new CapanodeError('bad-input', `epoch ${index} cannot be closed before epoch ${index - 1}`, { hint: 'Epochs close in order: each one carries into the next.' });
    }
    const input = await gatherEpochInput(store, { window, params, carryIn: previous?.carryOut ?? 0, termsOf: (e) => terms.of(e), longestVestingMs: terms.longestVestingMs() });
    const hash = inputsHash(input, params);
    const stored = await store.getEpoch(index);
    if (stored !== null) return this.checked(stored, hash);

    const result = computeEpoch(input, params);
    const facts = new Map(input.nodes.map((f) => [f.node, f]));
    const epoch = epochRow(result, window.untilMs, hash, clock.now(), params);
    const rows: LedgerDetail[] = result.nodes.map((n) => ledgerRow(index, window.endMs, n, facts.get(n.node)));
    if (!(await store.closeEpoch({ epoch, rows }))) {
      // Closed by someone else meanwhile (another process on the same store): check it like a re-close.
      const other = await store.getEpoch(index);
      if (other === null) throw new CapanodeError('store-unavailable', `epoch ${index} was neither written nor found`, { hint: 'Check the store.' });
      return this.checked(other, hash);
    }
    terms.add(epoch);
    log.info({ epoch: index, nodes: epoch.nodes, payouts: epoch.payouts, carryOut: epoch.carryOut, burned: epoch.burned, inputsHash: hash }, 'epoch closed');
    try {
      this.deps.onClosed?.(epoch);
    } catch (e) {
      log.error({ err: e, epoch: index }, 'epoch close listener failed');
    }
    return { epoch, written: true, recomputedHash: hash, consistent: true };
  }

  private checked(stored: EpochRow, hash: string): CloseOutcome {
    const consistent = stored.inputsHash === hash;
    if (!consistent) {
      this.deps.log.error(
        { epoch: stored.index, stored: stored.inputsHash, recomputed: hash },
        'epoch re-close found different inputs: the store or the reward parameters changed under a closed epoch; the stored result is kept',
      );
    }
    return { epoch: stored, written: false, recomputedHash: hash, consistent };
  }
}

function epochRow(result: EpochResult, untilMs: number, hash: string, closedAt: number, params: RewardParams): EpochRow {
  const { nodes, ...summary } = result;
  return {
    index: result.epoch.index,
    startMs: result.epoch.startMs,
    endMs: result.epoch.endMs,
    untilMs,
    inputsHash: hash,
    carryIn: result.budget.carryIn,
    carryOut: result.budget.carryOut,
    budget: result.budget.total,
    payouts: result.totals.payouts,
    slashed: result.totals.slashed,
    forfeited: result.totals.forfeited,
    burned: result.totals.burned,
    nodes: nodes.length,
    closedAt,
    params,
    summary,
  };
}

function ledgerRow(epoch: number, endMs: number, n: NodePayout, facts: NodeEpochFacts | undefined): LedgerDetail {
  // The engine pays exactly the nodes it was given facts for.
  if (facts === undefined) throw new CapanodeError('reward-facts-invalid', `epoch ${epoch}: a payout for ${n.node} without facts`, { hint: 'a coordinator bug' });
  return {
    epoch,
    node: n.node,
    endMs,
    earned: n.payout,
    slashed: n.slashed,
    forfeited: n.forfeited,
    stakeAfter: n.stakeAfter,
    reputationAfter: n.reputationAfter,
    banned: n.banned,
    penalties: n.penalties,
    facts,
    payout: n,
  };
}
