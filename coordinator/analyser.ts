/**
 * Where frames are analysed and PoT rows recomputed: on the event loop
 * (inline) or in a pool of worker threads (verify-pool.ts). Both give the
 * same answers; the pool keeps Ed25519 verification and matrix rows off the
 * thread that serves sockets and commits to the store.
 */
import type { Logger } from '../common/log.js';
import type { PotCheck } from '../proofs/pot.js';
import { analyseFrameBytes, type FrameAnalysis } from './frame.js';
import { chooseRowBackend, jsRows } from './pot/rows.js';

export interface Analyser {
  /** Worker threads in use (0: inline). */
  readonly workers: number;
  /** The row backend in use: 'native' (the addon's CPU path) or 'js' (proofs/pot.ts). */
  readonly rowBackend: 'native' | 'js';
  analyse(frame: Uint8Array): Promise<FrameAnalysis>;
  rowDigests(seed: Uint8Array, n: number, checks: readonly PotCheck[]): Promise<Uint8Array[]>;
  close(): Promise<void>;
}

export function createInlineAnalyser(log: Logger): Analyser {
  const rows = chooseRowBackend(jsRows, log);
  return {
    workers: 0,
    rowBackend: rows.name,
    analyse: (frame) => Promise.resolve(analyseFrameBytes(frame)),
    rowDigests: rows.compute,
    close: () => Promise.resolve(),
  };
}
