/**
 * A node's side of PoT for challenger tests, without the matrix work: each
 * rep's digests are made up from the seed (so thousands of reps cost
 * little), committed to with the real Merkle tree and revealed with real
 * audit paths; the analyser the coordinator is given recomputes the same
 * made-up rows. Everything but the arithmetic of the rows is the real code.
 */
import { createHash } from 'node:crypto';
import type { Analyser } from '../../../coordinator/analyser.js';
import type { Challenger } from '../../../coordinator/pot/challenger.js';
import { merkleTreeHash } from '../../../proofs/merkle.js';
import type { Challenge } from '../../../proofs/messages.js';
import { buildReveal, encodeRevealItems, POT_DIGEST_BYTES, repHash, type PotCheck } from '../../../proofs/pot.js';

function madeUpDigests(seed: Uint8Array | string, n: number, r: number): Uint8Array {
  const hex = typeof seed === 'string' ? seed : Buffer.from(seed).toString('hex');
  return new Uint8Array(createHash('shake256', { outputLength: n * POT_DIGEST_BYTES }).update(`${hex}:${r}`).digest());
}

export function fakeAnalyser(): Analyser {
  return {
    workers: 0,
    rowBackend: 'js',
    analyse: () => Promise.reject(new Error('not used')),
    rowDigests: (seed: Uint8Array, n: number, checks: readonly PotCheck[]) => Promise.resolve(checks.map(([r, i]) => madeUpDigests(seed, n, r).subarray(i * POT_DIGEST_BYTES, (i + 1) * POT_DIGEST_BYTES))),
    close: () => Promise.resolve(),
  };
}

export interface FakeAnswer {
  root: string;
  reveal(checks: readonly (readonly [number, number])[]): ReturnType<typeof encodeRevealItems>;
}

export function fakeAnswer(challenge: Challenge): FakeAnswer {
  const digests = (r: number) => madeUpDigests(challenge.seed, challenge.n, r);
  const repHashes = Array.from({ length: challenge.reps }, (_, r) => repHash(r, digests(r)));
  return {
    root: Buffer.from(merkleTreeHash(repHashes)).toString('hex'),
    reveal: (checks) => encodeRevealItems(buildReveal({ checks: checks.map(([r, i]) => [r, i] as const), repHashes, repDigests: digests })),
  };
}

/** Commits (arriving at `arrivedMono`, claiming `elapsedUs`) and, if opened, reveals honestly. */
export async function answer(challenger: Challenger, challenge: Challenge, arrivedMono: number, elapsedUs: number, sent: readonly { t: string }[]): Promise<void> {
  const a = fakeAnswer(challenge);
  await challenger.onCommit({ t: 'commit', id: challenge.id, root: a.root, elapsedUs, device: 'cpu' }, arrivedMono);
  const open = sent.find((m): m is { t: 'open'; id: string; checks: [number, number][] } => m.t === 'open' && (m as { id?: string }).id === challenge.id);
  if (open !== undefined) await challenger.onReveal({ t: 'reveal', id: challenge.id, items: a.reveal(open.checks) });
}
