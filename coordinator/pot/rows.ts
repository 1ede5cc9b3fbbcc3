/**
 * The row recomputation a reveal is checked with: digest(r, i) for each
 * check. The native addon's CPU path (native/index.ts verifyRows) is used
 * when it loads: it runs off the event loop on every core. Otherwise, or if
 * a native call fails, proofs/pot.ts, the reference, computes the same
 * digests (in the verify pool's workers when there are any).
 */
import type { Logger } from '../../common/log.js';
import { nativeAvailable, verifyRows } from '../../native/index.js';
import { computeCheckDigests, type PotCheck } from '../../proofs/pot.js';

export type RowDigests = (seed: Uint8Array, n: number, checks: readonly PotCheck[]) => Promise<Uint8Array[]>;

export interface RowBackend {
  name: 'native' | 'js';
  compute: RowDigests;
}

/** proofs/pot.ts on the calling thread. */
export const jsRows: RowDigests = (seed, n, checks) => Promise.resolve(computeCheckDigests(seed, n, checks));

/** The native path when the addon loads, falling back to `fallback` (and logging) if a call fails; else `fallback` alone. */
export function chooseRowBackend(fallback: RowDigests, log: Logger): RowBackend {
  if (!nativeAvailable()) return { name: 'js', compute: fallback };
  return {
    name: 'native',
    compute: async (seed, n, checks) => {
      try {
        return await verifyRows(seed, n, checks);
      } catch (e) {
        log.warn({ err: e }, 'native row verification failed; using the TypeScript reference');
        return fallback(seed, n, checks);
      }
    },
  };
}
