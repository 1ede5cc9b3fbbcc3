/**
 * For epoch, ledger and claim tests: a fake clock the coordinator runs on
 * (timers fire only when a test advances it), a coordinator built on it with
 * one-minute epochs and no unprompted challenges, and a node's chain built
 * record by record with the times and bodies a test needs.
 */
import { join } from 'node:path';
import { createLogger, type Logger } from '../../common/log.js';
import type { Clock, TimerHandle } from '../../coordinator/clock.js';
import { startCoordinator, type RunningCoordinator } from '../../coordinator/index.js';
import type { CoordinatorConfigInput } from '../../coordinator/config.js';
import { buildEnvelope, signEnvelope, ZERO_HASH, type BodyOf, type Kind, type VerifiedRecord } from '../../proofs/envelope.js';
import type { KeyPair } from '../../proofs/keys.js';
import { testKey } from './keys.js';
import { freshPostgresUrl } from './postgres.js';
import { tempDir } from './tmp.js';

/** 2025-11-24T16:00:00Z: a round minute, so aligned and unaligned epochs agree. */
export const T0 = 1_764_000_000_000;

export class FakeClock implements Clock {
  mono = 0;
  private timers: { at: number; fn: () => void; cancelled: boolean }[] = [];

  constructor(private readonly base = T0) {}

  now(): number {
    return this.base + Math.floor(this.mono);
  }
  monotonic(): number {
    return this.mono;
  }
  after(ms: number, fn: () => void): TimerHandle {
    const t = { at: this.mono + ms, fn, cancelled: false };
    this.timers.push(t);
    return { cancel: () => (t.cancelled = true) };
  }
  /** Moves time forward, firing due timers in order; lets I/O and promises settle after each. */
  async advance(ms: number): Promise<void> {
    const target = this.mono + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      due.cancelled = true;
      this.mono = due.at;
      due.fn();
      await settle();
    }
    this.mono = target;
    await settle();
  }
  /** advance() to an absolute wall-clock time. */
  advanceTo(wallMs: number): Promise<void> {
    return this.advance(Math.max(0, wallMs - this.now()));
  }
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  // PostgreSQL answers over a socket: give its round trips real time to land.
  if (process.env.TEST_STORE === 'postgres') await new Promise((r) => setTimeout(r, 40));
}

export const EPOCH_MS = 60_000;
export const CLOSE_DELAY_MS = 5_000;

/** Settings for ledger tests: one-minute epochs from the first start, no challenge unless asked, tiny CPU PoT, no pings in the way. */
export const LEDGER_TEST_CONFIG = {
  epochMs: EPOCH_MS,
  epochAligned: false,
  epochCloseDelayMs: CLOSE_DELAY_MS,
  beaconIntervalMs: 60_000,
  pingIntervalMs: 600_000,
  challengeMinIntervalMs: 30 * 86_400_000,
  challengeMaxIntervalMs: 30 * 86_400_000,
  potCpuN: 64,
  potReps: 2,
  potK: 4,
  verifyWorkers: 0,
} as const satisfies Partial<CoordinatorConfigInput>;

export interface LedgerCoordinator {
  coordinator: RunningCoordinator;
  clock: FakeClock;
  storeUrl: string;
  key: KeyPair;
}

export async function startLedgerCoordinator(
  options: { clock?: FakeClock; storeUrl?: string; config?: Partial<CoordinatorConfigInput>; logger?: Logger; key?: KeyPair } = {},
): Promise<LedgerCoordinator> {
  const clock = options.clock ?? new FakeClock();
  // TEST_STORE=postgres runs every suite built on this fixture against PostgreSQL (.ci/run does).
  const storeUrl = options.storeUrl ?? (process.env.TEST_STORE === 'postgres' ? await freshPostgresUrl() : `sqlite:${join(tempDir('capanode-ledger-'), 'ledger.db')}`);
  const key = options.key ?? testKey('ledger-coordinator');
  const coordinator = await startCoordinator({
    key,
    store: storeUrl,
    listen: '127.0.0.1:0',
    logger: options.logger ?? createLogger({ level: 'silent' }),
    clock,
    config: { ...LEDGER_TEST_CONFIG, ...options.config },
  });
  return { coordinator, clock, storeUrl, key };
}

/** A node's chain, one record at a time. */
export class ChainBuilder {
  private seq = 0;
  private prev = ZERO_HASH;
  readonly records: VerifiedRecord[] = [];

  constructor(readonly key: KeyPair) {}

  next<K extends Kind>(kind: K, body: BodyOf[K], time: number): VerifiedRecord {
    const env = buildEnvelope({ kind, node: this.key.id, seq: this.seq + 1, prev: this.prev, time, body });
    const rec = signEnvelope(env, this.key);
    this.seq += 1;
    this.prev = rec.hash;
    this.records.push(rec);
    return rec;
  }

  /** An uptime record for [from, to) citing `beacon`, stamped `to`. */
  uptime(from: number, to: number, beacon: string | null): VerifiedRecord {
    return this.next('uptime', { from, to, beacon, gpus: [], host: { uptimeS: 100, load1Milli: 10 } }, to);
  }

  claim(amount: number, epochs: [number, number], time: number, to = 'wallet:test'): VerifiedRecord {
    return this.next('claim', { amount, to, epochs }, time);
  }
}
