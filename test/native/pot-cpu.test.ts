import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpuPot, nativeLoadError, verifyRows, verifyRowsSync } from '../../native/index.js';
import { merkleTreeHash } from '../../proofs/merkle.js';
import { computeCheckDigests, computePot, genB, potKeys, repHash, POT_MAX_REPS, verifyReveal, buildReveal, type PotCheck } from '../../proofs/pot.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A deterministic seed per label: tests are reproducible, yet cover unrelated seeds. */
const seedOf = (label: string): Uint8Array => new Uint8Array(createHash('sha256').update(`capanode:test-seed:${label}`).digest());

// DESIGN §6 known-answer vector.
const VECTOR_SEED = new Uint8Array(Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex'));

describe('native CPU PoT', () => {
  it('loads', () => {
    expect(nativeLoadError()).toBeUndefined();
  });

  it('reproduces the DESIGN §6 known-answer vector', async () => {
    const r = await cpuPot(VECTOR_SEED, 8, 3, { keep: [0] });
    expect(hex(r.kept.get(0)!.subarray(0, 8))).toBe('ca71487dfc3caf9a');
    expect(hex(merkleTreeHash(r.repHashes))).toBe('90f6ae7a368b1393d623ed098ddc7cbbdcd21e82e8cac95ebfa2048b5f2fc97c');
    expect(r.kernel).toBe('cpu');
    expect(hex(verifyRowsSync(VECTOR_SEED, 8, [[0, 0]])[0]!)).toBe('ca71487dfc3caf9a');
  });

  // n in {64, 128, 256} and reps 1 to 5, each with its own seed; odd and ragged n exercise the padding.
  const cases: [number, number][] = [
    [64, 1],
    [64, 5],
    [128, 2],
    [128, 4],
    [256, 3],
    [256, 1],
    [13, 2],
    [100, 3],
  ];
  it.each(cases)('matches proofs/pot.ts at n = %i, reps = %i', async (n, reps) => {
    const seed = seedOf(`cpu-${n}-${reps}`);
    const want = computePot(seed, n, reps);
    const keep = Array.from({ length: reps }, (_, r) => r);
    const got = await cpuPot(seed, n, reps, { keep });
    expect(got.repHashes.map(hex)).toEqual(want.repHashes.map(hex));
    expect(hex(merkleTreeHash(got.repHashes))).toBe(hex(want.root));
    for (const r of keep) expect(hex(got.kept.get(r)!)).toBe(hex(want.repDigests[r]!));
  });

  it('computes listed reps only, in the order given, keeping what is asked', async () => {
    const seed = seedOf('listed');
    const want = computePot(seed, 64, 6);
    const got = await cpuPot(seed, 64, [5, 2, 4], { keep: [4], threads: 1 });
    expect(got.repHashes.map(hex)).toEqual([5, 2, 4].map((r) => hex(want.repHashes[r]!)));
    expect([...got.kept.keys()]).toEqual([4]);
    expect(hex(got.kept.get(4)!)).toBe(hex(want.repDigests[4]!));
    expect(hex(repHash(4, got.kept.get(4)!))).toBe(hex(want.repHashes[4]!));
  });

  it('refuses to keep a rep it does not compute', async () => {
    await expect(cpuPot(seedOf('x'), 64, [1, 2], { keep: [3] })).rejects.toMatchObject({ code: 'bad-input' });
    await expect(cpuPot(seedOf('x'), 64, 2, { keep: [2] })).rejects.toMatchObject({ code: 'bad-input' });
    await expect(cpuPot(seedOf('x'), 0, 2)).rejects.toMatchObject({ code: 'bad-input' });
  });
});

describe('native verifyRows', () => {
  it('agrees with proofs/pot.ts for random rows of random reps', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.constantFrom(64, 128, 192, 256, 72, 9),
        fc.array(fc.tuple(fc.integer({ min: 0, max: POT_MAX_REPS - 1 }), fc.nat()), { minLength: 1, maxLength: 20 }),
        async (seed, n, raw) => {
          const checks: PotCheck[] = raw.map(([r, i]) => [r, i % n]);
          const want = computeCheckDigests(seed, n, checks).map(hex);
          expect((await verifyRows(seed, n, checks)).map(hex)).toEqual(want);
          expect(verifyRowsSync(seed, n, checks).map(hex)).toEqual(want);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('agrees at a larger n, where work is split across column panels', async () => {
    const seed = seedOf('large');
    const n = 1000;
    const checks: PotCheck[] = [
      [0, 0],
      [7, 999],
      [123_456, 500],
    ];
    const want = computeCheckDigests(seed, n, checks, genB(potKeys(seed), n)).map(hex);
    expect((await verifyRows(seed, n, checks, { threads: 2 })).map(hex)).toEqual(want);
    expect((await verifyRows(seed, n, checks, { threads: 1 })).map(hex)).toEqual(want);
  });

  it('is a drop-in rowDigests for verifyReveal', () => {
    const seed = seedOf('reveal');
    const proof = computePot(seed, 64, 4);
    const checks: PotCheck[] = [
      [1, 3],
      [3, 60],
    ];
    const reveal = buildReveal({ checks, ...proof });
    const input = { seed, n: 64, reps: 4, root: proof.root, checks, reveal };
    expect(verifyReveal(input, { rowDigests: verifyRowsSync })).toEqual({ ok: true });
    // A node that committed a wrong row 3 of rep 1 passes the Merkle checks; the native recomputation catches it.
    const repDigests = proof.repDigests.map((d) => d.slice());
    const wrong = repDigests[1]!;
    wrong[3 * 8] = wrong[3 * 8]! ^ 1;
    const repHashes = repDigests.map((d, r) => repHash(r, d));
    const forged = { ...input, root: merkleTreeHash(repHashes), reveal: buildReveal({ checks, repHashes, repDigests }) };
    expect(verifyReveal(forged, { rowDigests: verifyRowsSync })).toMatchObject({ ok: false, code: 'wrong-digest', r: 1, i: 3 });
  });

  it('rejects checks outside the matrix', async () => {
    await expect(verifyRows(seedOf('x'), 64, [[0, 64]])).rejects.toMatchObject({ code: 'bad-input' });
    expect(() => verifyRowsSync(seedOf('x'), 64, [[-1, 0]])).toThrow(/outside/);
  });
});
