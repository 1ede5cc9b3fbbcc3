/**
 * What every load run stands on: a coordinator key in a temporary folder,
 * the coordinator processes (on a new SQLite store there unless --store is
 * given), their idle memory measured before any agent connects, and the
 * worker fleet pointed at them. Torn down in reverse, whatever happens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeKeyFile } from '../../common/keyfile.js';
import { generateKeyPair } from '../../proofs/keys.js';
import { startCoordinators, type CoordinatorProcess } from './coordinators.js';
import { Fleet } from './fleet.js';
import type { LoadOptions } from './options.js';

const REPORT_MS = 1_000;
/** Idle memory is the median of this many samples, 500 ms apart, after the processes have settled. */
const IDLE_SAMPLES = 5;

export interface Rig {
  coordinators: CoordinatorProcess[];
  fleet: Fleet;
  /** Each coordinator's resident memory (bytes) before any agent connected; null where /proc is unreadable. */
  idleRss: (number | null)[];
  /** The store the coordinators serve, as the report shows it (no password). */
  store: string;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? null;
}

/** A progress line on stderr (stdout carries only the JSON report). */
export function progress(line: string): void {
  process.stderr.write(`bench:load: ${line}\n`);
}

/** The store URL without its password. */
export function shownStore(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.protocol === 'sqlite:' ? url : u.toString();
  } catch {
    return url;
  }
}

export async function withRig<T>(o: LoadOptions, run: (rig: Rig) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'capanode-bench-load-'));
  const onSignal = (): void => {
    // The coordinators and workers got the same signal from the terminal and are stopping.
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  let coordinators: CoordinatorProcess[] = [];
  let fleet: Fleet | null = null;
  try {
    const key = generateKeyPair();
    const keyFile = join(dir, 'coordinator.key');
    writeKeyFile(keyFile, key, { overwrite: true });
    const store = o.store ?? `sqlite:${join(dir, 'ledger.db')}`;
    progress(`starting ${o.coordinators} coordinator process(es) on ${o.store === null ? 'a new SQLite store' : shownStore(store)}`);
    coordinators = await startCoordinators({ count: o.coordinators, store, keyFile, maxConnections: o.agents + 1_000 });
    if (o.settleS > 0) progress(`letting them idle ${o.settleS} s before reading their memory`);
    await sleep(o.settleS * 1000);
    const samples: (number | null)[][] = [];
    for (let i = 0; i < IDLE_SAMPLES; i++) {
      samples.push(coordinators.map((c) => c.rss()));
      await sleep(500);
    }
    const idleRss = coordinators.map((_, i) => median(samples.map((s) => s[i]).filter((v): v is number => typeof v === 'number')));
    fleet = await Fleet.start(o.workers, { coordinators: coordinators.map((c) => ({ url: c.url, id: key.id })), intervalMs: o.intervalMs, reportMs: REPORT_MS });
    return await run({ coordinators, fleet, idleRss, store: o.store === null ? 'sqlite (new, temporary)' : shownStore(store) });
  } finally {
    if (fleet !== null) await fleet.stop();
    await Promise.all(coordinators.map((c) => c.stop()));
    process.off('SIGINT', onSignal);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Waits until `target` agents are authenticated, or `timeoutMs` passes; true when they are. */
export async function untilConnected(fleet: Fleet, target: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (fleet.connected() < target) {
    if (performance.now() > deadline) return false;
    await sleep(250);
  }
  return true;
}
