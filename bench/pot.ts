import { createHash, randomBytes } from 'node:crypto';
import { merkleTreeHash } from '../proofs/merkle.js';
import { buildReveal, chooseChecks, computeCheckDigests, genB, potKeys, POT_DEFAULT_CHECKS, POT_DIGEST_BYTES, repHash, verifyReveal, type RevealInput } from '../proofs/pot.js';
import { goal, medianMs, type BenchSuite } from './suite.js';

const N = 4096;
// About what a coordinator asks of a fast GPU at n = 4096; only the checked reps cost the verifier anything.
const REPS = 1024;

/**
 * A reveal a coordinator would receive for k = 16 checks at n = 4096. Computing
 * whole reps at n = 4096 is n³ each, far beyond a benchmark's setup, so only
 * the checked rows get their real digests; the other rows of the checked reps
 * and the hashes of unchecked reps are filler. The verifier only recomputes
 * checked rows, so its cost is exactly that of a real reveal.
 */
function honestReveal(): RevealInput {
  const seed = new Uint8Array(randomBytes(32));
  const checks = chooseChecks(REPS, N, POT_DEFAULT_CHECKS, randomBytes);
  const real = computeCheckDigests(seed, N, checks, genB(potKeys(seed), N));
  const repDigests = new Map<number, Uint8Array>();
  checks.forEach(([r, i], t) => {
    let digests = repDigests.get(r);
    if (digests === undefined) {
      digests = new Uint8Array(randomBytes(N * POT_DIGEST_BYTES));
      repDigests.set(r, digests);
    }
    digests.set(real[t] as Uint8Array, i * POT_DIGEST_BYTES);
  });
  const repHashes = Array.from({ length: REPS }, (_, r) => {
    const digests = repDigests.get(r);
    return digests === undefined ? new Uint8Array(createHash('sha256').update(`filler:${r}`).digest()) : repHash(r, digests);
  });
  const reveal = buildReveal({ checks, repHashes, repDigests: (r) => repDigests.get(r) as Uint8Array });
  return { seed, n: N, reps: REPS, root: merkleTreeHash(repHashes), checks, reveal };
}

/** pot.tsVerifyMs: one core verifying a k = 16 reveal at n = 4096 in TypeScript (B built inside each verify). */
export const potSuite: BenchSuite = {
  name: 'pot',
  async run() {
    const input = honestReveal();
    const first = verifyReveal(input);
    if (!first.ok) throw new Error(`the benchmark's honest reveal failed: ${first.code}: ${first.reason}`);
    const genBMs = await medianMs(() => genB(potKeys(input.seed), N), 3);
    const tsVerifyMs = await medianMs(() => {
      const result = verifyReveal(input);
      if (!result.ok) throw new Error(result.reason);
    }, 5);
    return { n: N, reps: REPS, checks: input.checks.length, genBMs, tsVerifyMs: goal(tsVerifyMs, '<=', 1000) };
  },
};
