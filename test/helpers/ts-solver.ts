import type { PotSolver } from '../../agent/link/index.js';
import { toHex } from '../../proofs/keys.js';
import { buildReveal, computePot } from '../../proofs/pot.js';

/** A PotSolver on proofs/pot.ts, for small test challenges. */
export function tsSolver(): PotSolver {
  return {
    solve(challenge) {
      const seed = Buffer.from(challenge.seed, 'hex');
      const t0 = performance.now();
      const proof = computePot(seed, challenge.n, challenge.reps);
      const elapsedUs = Math.max(1, Math.round((performance.now() - t0) * 1000));
      return Promise.resolve({
        root: toHex(proof.root),
        elapsedUs,
        device: 'cpu',
        reveal: (checks) => buildReveal({ checks, repHashes: proof.repHashes, repDigests: proof.repDigests }),
      });
    },
  };
}
