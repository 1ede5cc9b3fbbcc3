/**
 * A small pool of worker threads for the coordinator's CPU work: att frames
 * (each record's canonical form, schema and Ed25519 signature) and PoT row
 * recomputation. Each task goes to the least busy worker; answers may come
 * back in any order, and the session that asked puts them back in its own
 * order. Small frames are analysed inline: the round trip to a worker would
 * cost more than the work.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CapanodeError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { PotCheck } from '../proofs/pot.js';
import type { Analyser } from './analyser.js';
import { analyseFrameBytes, type FrameAnalysis } from './frame.js';
import { chooseRowBackend } from './pot/rows.js';

export type PoolTask =
  | { id: number; kind: 'frame'; frame: Uint8Array }
  | { id: number; kind: 'rows'; seed: Uint8Array; n: number; checks: (readonly [number, number])[] };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type PoolReply = { id: number; ok: true; result: FrameAnalysis | Uint8Array[] } | { id: number; ok: false; error: string };

/** Frames up to this size are analysed inline. */
export const INLINE_FRAME_BYTES = 4096;

const WORKER_URL = new URL('./verify-worker.js', import.meta.url);

/** True when the compiled worker script is present (running from dist/, not from the TypeScript sources). */
export function workerAvailable(): boolean {
  return existsSync(fileURLToPath(WORKER_URL));
}

interface Pending {
  resolve(value: FrameAnalysis | Uint8Array[]): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

export function createVerifyPool(size: number, log: Logger): Analyser {
  if (!workerAvailable()) {
    throw new CapanodeError('io-error', `the verify worker ${fileURLToPath(WORKER_URL)} is missing`, { hint: 'Run the coordinator from the built package (npm run build), or set verifyWorkers to 0.' });
  }
  const slots: Slot[] = [];
  let nextId = 1;
  let closing = false;

  const spawn = (index: number): void => {
    const worker = new Worker(WORKER_URL);
    const slot: Slot = { worker, pending: new Map() };
    slots[index] = slot;
    worker.on('message', (reply: PoolReply) => {
      const p = slot.pending.get(reply.id);
      if (p === undefined) return;
      slot.pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.result);
      else p.reject(new Error(reply.error));
    });
    const fail = (why: string): void => {
      for (const p of slot.pending.values()) p.reject(new Error(why));
      slot.pending.clear();
      if (!closing && slots[index] === slot) {
        log.error({ worker: index, why }, 'verify worker stopped; starting a new one');
        spawn(index);
      }
    };
    worker.on('error', (e) => fail(`verify worker failed: ${e.message}`));
    worker.on('exit', (code) => fail(`verify worker exited with code ${code}`));
  };
  for (let i = 0; i < size; i++) spawn(i);

  const submit = (task: DistributiveOmit<PoolTask, 'id'>, transfer: ArrayBuffer[]): Promise<FrameAnalysis | Uint8Array[]> => {
    if (closing) return Promise.reject(new Error('the verify pool is closed'));
    let best = slots[0] as Slot;
    for (const s of slots) if (s.pending.size < best.pending.size) best = s;
    const id = nextId++;
    return new Promise((resolve, reject) => {
      best.pending.set(id, { resolve, reject });
      best.worker.postMessage({ ...task, id }, transfer);
    });
  };

  const inWorkers = (seed: Uint8Array, n: number, checks: readonly PotCheck[]): Promise<Uint8Array[]> =>
    submit({ kind: 'rows', seed: new Uint8Array(seed), n, checks: checks.map(([r, i]) => [r, i] as const) }, []) as Promise<Uint8Array[]>;
  const rows = chooseRowBackend(inWorkers, log);

  return {
    workers: size,
    rowBackend: rows.name,
    analyse(frame) {
      if (frame.byteLength <= INLINE_FRAME_BYTES) return Promise.resolve(analyseFrameBytes(frame));
      // A private copy whose buffer can be handed over without copying again (ws may pass a view of a larger buffer).
      const own = new Uint8Array(frame);
      return submit({ kind: 'frame', frame: own }, [own.buffer]) as Promise<FrameAnalysis>;
    },
    rowDigests: rows.compute,
    async close() {
      closing = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
