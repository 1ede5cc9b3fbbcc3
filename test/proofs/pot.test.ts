import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { merkleTreeHash } from '../../proofs/merkle.js';
import {
  buildReveal,
  checkRevealStructure,
  chooseChecks,
  compareRowDigests,
  computeCheckDigests,
  computePot,
  computeRep,
  computeRowDigests,
  encodeRevealItems,
  genA,
  genARow,
  genB,
  lowbias32,
  parseChecks,
  parseRevealItems,
  potKeys,
  potParamsProblem,
  repHash,
  rowDigest,
  validatePotParams,
  verifyReveal,
  POT_MAX_CHECKS,
  POT_MAX_REPS,
  type PotCheck,
  type PotKeys,
  type PotProof,
  type RevealInput,
  type RevealItem,
  type RevealResult,
} from '../../proofs/pot.js';
import { thrown } from '../helpers/errors.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

/** A deterministic byte stream (SHA-256 in counter mode) standing in for a CSPRNG. */
function byteStream(label: string): (size: number) => Uint8Array {
  let counter = 0;
  return (size) => {
    const out = new Uint8Array(size);
    for (let at = 0; at < size; at += 32) {
      const block = createHash('sha256').update(`${label}:${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, size - at)), at);
    }
    return out;
  };
}

function seedOf(label: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(label).digest());
}

/** Row i of A·B by the textbook loop: the oracle for the optimised kernel. */
function naiveRow(keys: PotKeys, r: number, n: number, i: number, B: Int16Array): Int32Array {
  const a = genARow(keys, r, n, i);
  const c = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    let sum = 0;
    for (let k = 0; k < n; k++) sum += a[k]! * B[k * n + j]!;
    c[j] = sum;
  }
  return c;
}

/** Flips bits of one byte in place. */
function flip(bytes: Uint8Array, at: number, mask = 1): void {
  bytes[at] = bytes[at]! ^ mask;
}

function code(result: RevealResult): string {
  return result.ok ? 'ok' : result.code;
}

describe('PoT known-answer vector (DESIGN §6)', () => {
  const seed = fromHex('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff');
  const keys = potKeys(seed);

  it('generates row 0 of A_0 and row 0 of B', () => {
    expect([...genARow(keys, 0, 8, 0)]).toEqual([211, -179, -99, -246, 30, -196, 50, 99]);
    expect([...genA(keys, 0, 8).subarray(0, 8)]).toEqual([211, -179, -99, -246, 30, -196, 50, 99]);
    expect([...genB(keys, 8).subarray(0, 8)]).toEqual([-3, -10, 6, -12, -10, -8, -7, 1]);
  });

  it('computes digest(0,0) and the root', () => {
    expect(hex(computeRowDigests(seed, 8, 0, [0])[0]!)).toBe('ca71487dfc3caf9a');
    expect(hex(computeRep(seed, 8, 0).subarray(0, 8))).toBe('ca71487dfc3caf9a');
    expect(hex(computePot(seed, 8, 3).root)).toBe('90f6ae7a368b1393d623ed098ddc7cbbdcd21e82e8cac95ebfa2048b5f2fc97c');
  });

  it('a reveal of the vector verifies when tiny n is allowed, and only then', () => {
    const proof = computePot(seed, 8, 3);
    const checks: PotCheck[] = [[0, 0], [2, 7]];
    const input: RevealInput = { seed, n: 8, reps: 3, root: proof.root, checks, reveal: buildReveal({ checks, ...proof }) };
    expect(verifyReveal(input, { allowTinyN: true })).toEqual({ ok: true });
    expect(code(verifyReveal(input))).toBe('bad-params');
  });
});

describe('PoT generation', () => {
  it('lowbias32 is a u32 permutation-style hash', () => {
    expect(lowbias32(0)).toBe(0);
    for (const x of [1, 0x7fffffff, 0x80000000, 0xffffffff, -1]) {
      const y = lowbias32(x);
      expect(Number.isInteger(y) && y >= 0 && y < 2 ** 32).toBe(true);
    }
    // Signed and unsigned spellings of one 32-bit pattern hash alike.
    expect(lowbias32(-1)).toBe(lowbias32(0xffffffff));
  });

  it('derives k0..k3 as little-endian u32 of SHA-256("capanode:pot:v1" ‖ seed)', () => {
    const seed = seedOf('keys');
    const k = createHash('sha256').update(Buffer.concat([Buffer.from('capanode:pot:v1'), seed])).digest();
    expect(potKeys(seed)).toEqual({ k0: k.readUInt32LE(0), k1: k.readUInt32LE(4), k2: k.readUInt32LE(8), k3: k.readUInt32LE(12) });
    expect(thrown(() => potKeys(new Uint8Array(31))).code).toBe('bad-input');
  });

  it('A entries span [-255, 255] (beyond int8) and B entries [-15, 15]', () => {
    const keys = potKeys(seedOf('ranges'));
    const A = genA(keys, 5, 256);
    const B = genB(keys, 64);
    expect(Math.min(...A)).toBe(-255);
    expect(Math.max(...A)).toBe(255);
    expect(new Set(B).size).toBe(31);
    expect(Math.min(...B)).toBe(-15);
    expect(Math.max(...B)).toBe(15);
    // Different reps draw different matrices; row i of genA is genARow(i).
    expect(hex(new Uint8Array(genA(keys, 6, 64).buffer))).not.toBe(hex(new Uint8Array(genA(keys, 5, 64).buffer)));
    expect([...genA(keys, 5, 64).subarray(64 * 9, 64 * 10)]).toEqual([...genARow(keys, 5, 64, 9)]);
  });

  it('|C| <= 3825n < 2^24: every partial sum is exact in fp32, in any order', () => {
    expect(255 * 15 * 4096).toBe(3825 * 4096);
    expect(3825 * 4096).toBeLessThan(2 ** 24);
    // A real row at n = 4096 accumulated in fp32 (rounding after every add), forwards and backwards.
    const n = 4096;
    const keys = potKeys(seedOf('exact'));
    const B = genB(keys, n);
    const a = genARow(keys, 3, n, 17);
    const exact = naiveRow(keys, 3, n, 17, B);
    for (const j of [0, 1, 2047, 4095]) {
      let forward = 0;
      let backward = 0;
      for (let k = 0; k < n; k++) {
        forward = Math.fround(forward + Math.fround(a[k]! * B[k * n + j]!));
        backward = Math.fround(backward + Math.fround(a[n - 1 - k]! * B[(n - 1 - k) * n + j]!));
      }
      expect(forward).toBe(exact[j]);
      expect(backward).toBe(exact[j]);
    }
    expect(Math.max(...exact.map(Math.abs))).toBeLessThanOrEqual(3825 * n);
  });

  it('the row kernel matches the textbook product (n not a multiple of 8, odd row counts, n = 4096)', () => {
    for (const n of [1, 13, 64]) {
      const seed = seedOf(`kernel-${n}`);
      const keys = potKeys(seed);
      const B = genB(keys, n);
      const checks: PotCheck[] = [[0, 0], [1, n - 1], [0, Math.floor(n / 2)]];
      const got = computeCheckDigests(seed, n, checks, B).map(hex);
      expect(got).toEqual(checks.map(([r, i]) => hex(rowDigest(keys, naiveRow(keys, r, n, i, B)))));
    }
    const seed = seedOf('kernel-4096');
    const keys = potKeys(seed);
    const B = genB(keys, 4096);
    expect(hex(computeRowDigests(seed, 4096, 7, [4095], B)[0]!)).toBe(hex(rowDigest(keys, naiveRow(keys, 7, 4096, 4095, B))));
  });

  it('computeRowDigests agrees with computeRep for random rows at n = 64 (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat({ max: 1000 }), fc.uniqueArray(fc.nat({ max: 63 }), { minLength: 1, maxLength: 9 }), (seed, r, rows) => {
        const rep = computeRep(seed, 64, r);
        const digests = computeRowDigests(seed, 64, r, rows);
        rows.forEach((i, t) => expect(hex(digests[t]!)).toBe(hex(rep.subarray(i * 8, i * 8 + 8))));
      }),
      { numRuns: 25 },
    );
  });

  it('repHash binds the rep index; computePot commits MTH of the rep hashes', () => {
    const seed = seedOf('pot');
    const proof = computePot(seed, 64, 5);
    expect(proof.repDigests.map((d) => d.length)).toEqual([512, 512, 512, 512, 512]);
    expect(hex(proof.repHashes[2]!)).toBe(createHash('sha256').update('capanode:pot:v1:rep').update(Buffer.from([2, 0, 0, 0])).update(proof.repDigests[2]!).digest('hex'));
    expect(hex(repHash(3, proof.repDigests[2]!))).not.toBe(hex(proof.repHashes[2]!));
    expect(hex(proof.root)).toBe(hex(merkleTreeHash(proof.repHashes)));
  });

  it('rejects sizes, reps and rows it cannot compute', () => {
    const seed = seedOf('bad');
    expect(thrown(() => computeRep(seed, 0, 0)).code).toBe('bad-input');
    expect(thrown(() => computeRep(seed, 8192, 0)).code).toBe('bad-input');
    expect(thrown(() => computeRowDigests(seed, 64, 0, [64])).code).toBe('bad-input');
    expect(thrown(() => computeRowDigests(seed, 64, -1, [0])).code).toBe('bad-input');
    expect(thrown(() => computeRowDigests(seed, 64, 0, [0], new Int16Array(10))).code).toBe('bad-input');
    expect(thrown(() => computePot(seed, 64, 0)).code).toBe('bad-input');
  });
});

describe('PoT parameters and checks', () => {
  it('accepts protocol parameters and names the bad one', () => {
    expect(potParamsProblem(64, 1)).toBeUndefined();
    expect(potParamsProblem(4096, POT_MAX_REPS)).toBeUndefined();
    for (const [n, reps] of [[32, 1], [100, 1], [8192, 1], [64.5, 1], [8, 3]]) expect(potParamsProblem(n!, reps!)).toMatch(/^n = /);
    for (const reps of [0, -1, 1.5, POT_MAX_REPS + 1, Number.NaN]) expect(potParamsProblem(64, reps)).toMatch(/^reps = /);
    expect(potParamsProblem(8, 3, { allowTinyN: true })).toBeUndefined();
    expect(potParamsProblem(0, 3, { allowTinyN: true })).toMatch(/^n = /);
    const e = thrown(() => validatePotParams(96, 1));
    expect(e.code).toBe('bad-input');
    expect(e.message).toContain('n = 96');
    expect(e.hint).toContain('multiple of 64');
    expect(() => validatePotParams(128, 10)).not.toThrow();
  });

  it('chooseChecks draws k distinct in-range pairs, deterministically from its byte source', () => {
    for (const [reps, n, k] of [[1, 64, 16], [3, 64, 64], [1000, 4096, 16], [2, 3, 6], [POT_MAX_REPS, 4096, POT_MAX_CHECKS]] as const) {
      const checks = chooseChecks(reps, n, k, byteStream(`checks-${reps}-${n}`));
      expect(checks).toHaveLength(k);
      expect(new Set(checks.map(([r, i]) => `${r},${i}`)).size).toBe(k);
      for (const [r, i] of checks) {
        expect(Number.isInteger(r) && r >= 0 && r < reps).toBe(true);
        expect(Number.isInteger(i) && i >= 0 && i < n).toBe(true);
      }
    }
    expect(chooseChecks(50, 64, 16, byteStream('same'))).toEqual(chooseChecks(50, 64, 16, byteStream('same')));
    expect(chooseChecks(50, 64, 16, byteStream('same'))).not.toEqual(chooseChecks(50, 64, 16, byteStream('other')));
  });

  it('chooseChecks rejects draws that would bias the modulo', () => {
    // For bound 3, 2^32 - 1 is the one value rejection sampling must skip.
    const words = [0xffffffff, 4, 0xffffffff, 5];
    const source = (size: number): Uint8Array => {
      const out = Buffer.alloc(size);
      words.forEach((w, t) => out.writeUInt32LE(w, t * 4));
      return new Uint8Array(out);
    };
    expect(chooseChecks(3, 3, 1, source)).toEqual([[1, 2]]);
  });

  it('chooseChecks refuses impossible requests and a short random source', () => {
    expect(thrown(() => chooseChecks(2, 3, 7, byteStream('x'))).code).toBe('bad-input');
    expect(thrown(() => chooseChecks(2, 64, 0, byteStream('x'))).code).toBe('bad-input');
    expect(thrown(() => chooseChecks(10, 64, POT_MAX_CHECKS + 1, byteStream('x'))).code).toBe('bad-input');
    expect(thrown(() => chooseChecks(0, 64, 1, byteStream('x'))).code).toBe('bad-input');
    expect(thrown(() => chooseChecks(10, 64, 4, () => new Uint8Array(3))).code).toBe('bad-input');
  });
});

describe('verifyReveal', () => {
  const seed = seedOf('reveal');
  const n = 64;
  const reps = 6;
  const honest = computePot(seed, n, reps);
  // Reps 1 and 4 are both checked, twice each; rep 0 is never checked.
  const checks: PotCheck[] = [[1, 5], [4, 63], [1, 40], [2, 0], [4, 0]];
  const reveal = buildReveal({ checks, ...honest });
  const base: RevealInput = { seed, n, reps, root: honest.root, checks, reveal };
  const copyItems = (): RevealItem[] => reveal.map((it) => ({ r: it.r, digests: new Uint8Array(it.digests), path: it.path.map((h) => new Uint8Array(h)) }));

  /** A proof whose committed digests were altered by `edit` (what a node that skipped work commits). */
  function committed(edit: (repDigests: Uint8Array[]) => void): PotProof {
    const repDigests = honest.repDigests.map((d) => new Uint8Array(d));
    edit(repDigests);
    const repHashes = repDigests.map((d, r) => repHash(r, d));
    return { root: merkleTreeHash(repHashes), repDigests, repHashes };
  }

  it('accepts an honest reveal (one item per checked rep, ascending)', () => {
    expect(reveal.map((it) => it.r)).toEqual([1, 2, 4]);
    expect(verifyReveal(base)).toEqual({ ok: true });
    expect(verifyReveal({ ...base, reveal: [...reveal].reverse() })).toEqual({ ok: true });
  });

  it('rejects a committed row digest that is wrong, naming the row', () => {
    const cheat = committed((d) => flip(d[4]!, 63 * 8));
    const result = verifyReveal({ ...base, root: cheat.root, reveal: buildReveal({ checks, ...cheat }) });
    expect(result).toEqual({ ok: false, code: 'wrong-digest', reason: 'row 63 of rep 4 does not match its recomputation', r: 4, i: 63 });
  });

  it('passes when the skipped rows are not checked: the check is a sample', () => {
    const cheat = committed((d) => flip(d[4]!, 62 * 8));
    expect(verifyReveal({ ...base, root: cheat.root, reveal: buildReveal({ checks, ...cheat }) })).toEqual({ ok: true });
  });

  it('rejects revealed digests that differ from the committed ones', () => {
    const items = copyItems();
    flip(items[0]!.digests, 100);
    expect(code(verifyReveal({ ...base, reveal: items }))).toBe('bad-path');
  });

  it('rejects a wrong path: altered, truncated, extended, or against another root', () => {
    const altered = copyItems();
    flip(altered[1]!.path[0]!, 0, 0x40);
    expect(verifyReveal({ ...base, reveal: altered })).toMatchObject({ ok: false, code: 'bad-path', r: 2, reason: 'the digests and audit path of rep 2 do not lead to the committed root' });
    const truncated = copyItems();
    truncated[2]!.path.pop();
    expect(verifyReveal({ ...base, reveal: truncated })).toMatchObject({ ok: false, code: 'bad-path', r: 4 });
    const extended = copyItems();
    extended[0]!.path.push(honest.root);
    expect(code(verifyReveal({ ...base, reveal: extended }))).toBe('bad-path');
    const swapped = copyItems();
    [swapped[0]!.path, swapped[1]!.path] = [swapped[1]!.path, swapped[0]!.path];
    expect(code(verifyReveal({ ...base, reveal: swapped }))).toBe('bad-path');
    expect(code(verifyReveal({ ...base, root: computePot(seedOf('other'), n, reps).root }))).toBe('bad-path');
  });

  it('rejects a wrong rep: digests of another rep', () => {
    // Rep 4's item carries rep 1's digests (both checked): named as such.
    const items = copyItems();
    items[2]!.digests = new Uint8Array(items[0]!.digests);
    expect(verifyReveal({ ...base, reveal: items })).toMatchObject({ ok: false, code: 'wrong-rep', reason: 'reps 1 and 4 reveal the same digests' });
    // A node that computed rep 1 once and committed it as rep 4 too.
    const reuse = committed((d) => (d[4] = new Uint8Array(d[1]!)));
    expect(code(verifyReveal({ ...base, root: reuse.root, reveal: buildReveal({ checks, ...reuse }) }))).toBe('wrong-rep');
    expect(code(verifyReveal({ ...base, checks: [[4, 0]], root: reuse.root, reveal: buildReveal({ checks: [[4, 0]], ...reuse }) }))).toBe('wrong-digest');
    // An unchecked rep's digests under a checked rep's index do not hash to the root.
    const unchecked = copyItems();
    unchecked[1]!.digests = new Uint8Array(honest.repDigests[0]!);
    expect(code(verifyReveal({ ...base, reveal: unchecked }))).toBe('bad-path');
  });

  it('rejects a truncated reveal', () => {
    const short = copyItems();
    short[1]!.digests = short[1]!.digests.subarray(0, n * 8 - 8);
    expect(verifyReveal({ ...base, reveal: short })).toMatchObject({ ok: false, code: 'bad-length', r: 2 });
    expect(verifyReveal({ ...base, reveal: reveal.slice(0, 2) })).toMatchObject({ ok: false, code: 'missing-rep', r: 4 });
    expect(code(verifyReveal({ ...base, reveal: [] }))).toBe('missing-rep');
  });

  it('rejects a reveal missing a checked rep, with an extra rep, or with a rep twice', () => {
    const withoutRep2 = reveal.filter((it) => it.r !== 2);
    expect(verifyReveal({ ...base, reveal: withoutRep2 })).toMatchObject({ ok: false, code: 'missing-rep', reason: 'no item for checked rep 2' });
    const extra = buildReveal({ checks: [[0, 0]], ...honest })[0]!;
    expect(verifyReveal({ ...base, reveal: [...reveal, extra] })).toMatchObject({ ok: false, code: 'extra-items', r: 0 });
    // Replacing rep 2 with rep 0 is both: the extra item is reported first.
    expect(code(verifyReveal({ ...base, reveal: [...withoutRep2, extra] }))).toBe('extra-items');
    expect(verifyReveal({ ...base, reveal: [...reveal, reveal[0]!] })).toMatchObject({ ok: false, code: 'duplicate-rep', r: 1 });
  });

  it('rejects malformed coordinator inputs without throwing', () => {
    expect(code(verifyReveal({ ...base, checks: [] }))).toBe('bad-check');
    expect(code(verifyReveal({ ...base, checks: [[reps, 0]] }))).toBe('bad-check');
    expect(code(verifyReveal({ ...base, checks: [[0, n]] }))).toBe('bad-check');
    expect(code(verifyReveal({ ...base, checks: [...checks, [1, 5]] }))).toBe('bad-check');
    expect(code(verifyReveal({ ...base, seed: new Uint8Array(31) }))).toBe('bad-params');
    expect(code(verifyReveal({ ...base, root: new Uint8Array(0) }))).toBe('bad-params');
    expect(code(verifyReveal({ ...base, n: 65 }))).toBe('bad-params');
  });

  it('takes an injected row-digest function and splits into a cheap structure check and a compare', () => {
    const calls: (readonly PotCheck[])[] = [];
    const spy = (s: Uint8Array, size: number, cs: readonly PotCheck[]): Uint8Array[] => {
      calls.push(cs);
      return computeCheckDigests(s, size, cs);
    };
    expect(verifyReveal(base, { rowDigests: spy })).toEqual({ ok: true });
    expect(calls).toEqual([checks]);
    const wrong = (_s: Uint8Array, _n: number, cs: readonly PotCheck[]): Uint8Array[] => cs.map(() => new Uint8Array(8));
    expect(verifyReveal(base, { rowDigests: wrong })).toMatchObject({ ok: false, code: 'wrong-digest', r: 1, i: 5 });

    const structure = checkRevealStructure(base);
    expect(structure.ok).toBe(true);
    if (!structure.ok) return;
    expect(structure.plan.checks).toEqual(checks);
    expect(structure.plan.claimed.map(hex)).toEqual(checks.map(([r, i]) => hex(honest.repDigests[r]!.subarray(i * 8, i * 8 + 8))));
    expect(compareRowDigests(structure.plan, computeCheckDigests(seed, n, structure.plan.checks))).toEqual({ ok: true });
    expect(thrown(() => compareRowDigests(structure.plan, [])).code).toBe('bad-input');
    expect(code(checkRevealStructure({ ...base, reveal: reveal.slice(1) }))).toBe('missing-rep');
  });
});

describe('reveal and checks wire forms', () => {
  const seed = seedOf('wire');
  const shape = { n: 64, reps: 5 };
  const proof = computePot(seed, shape.n, shape.reps);
  const checks: PotCheck[] = [[0, 1], [3, 2]];
  const items = buildReveal({ checks, ...proof });
  const wire = encodeRevealItems(items);

  it('round-trips reveal items through base64 and hex', () => {
    expect(wire[0]!.digests).toHaveLength(684);
    expect(wire[0]!.digests.endsWith('=')).toBe(true);
    expect(wire[1]!.path.every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
    const parsed = parseRevealItems(JSON.parse(JSON.stringify(wire)), shape);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.map((it) => ({ r: it.r, digests: hex(it.digests), path: it.path.map(hex) }))).toEqual(
      items.map((it) => ({ r: it.r, digests: hex(it.digests), path: it.path.map(hex) })),
    );
    expect(verifyReveal({ seed, ...shape, root: proof.root, checks, reveal: parsed.value })).toEqual({ ok: true });
  });

  it('reports every malformed field of a reveal, with its path', () => {
    const digests = wire[0]!.digests;
    // 512 bytes leave the last data character's two low bits unused (zero); setting one decodes alike but is not canonical.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const lastData = digests.length - 2;
    const nonCanonical = digests.slice(0, lastData) + alphabet[alphabet.indexOf(digests[lastData]!) ^ 1]! + digests.slice(lastData + 1);
    expect(Buffer.from(nonCanonical, 'base64').toString('base64')).toBe(digests);
    const bad = [
      { r: 5, digests: digests.slice(4), path: ['00'] },
      { r: 1, digests: nonCanonical, path: [], extra: true },
      { r: 1.5, digests: '!'.repeat(684), path: Array.from({ length: 4 }, () => 'a'.repeat(64)) },
    ];
    const parsed = parseRevealItems(bad, shape);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    const paths = parsed.issues.map((i) => i.path);
    for (const p of ['items[0].r', 'items[0].digests', 'items[0].path[0]', 'items[1].extra', 'items[2].r', 'items[2].digests', 'items[2].path']) expect(paths).toContain(p);
    const canonical = parsed.issues.find((i) => i.path === 'items[1].digests');
    expect(canonical?.message).toBe('must be the canonical base64 of 512 bytes');
    expect(parseRevealItems('nope', shape).ok).toBe(false);
    expect(parseRevealItems(Array.from({ length: 6 }, () => wire[0]), shape).ok).toBe(false);
    expect(parseRevealItems([{ ...wire[0], path: [...wire[0]!.path, wire[0]!.path[0]] }], { ...shape, reps: 4 }).ok).toBe(false);
  });

  it('parses open.checks: in range, distinct, 1 to 256 of them', () => {
    expect(parseChecks([[0, 1], [4, 63]], shape)).toEqual({ ok: true, value: [[0, 1], [4, 63]] });
    const dup = parseChecks([[0, 1], [0, 1]], shape);
    expect(dup.ok ? [] : dup.issues).toEqual([{ path: 'checks[1]', message: 'repeats check [0, 1]' }]);
    for (const bad of [[], [[5, 0]], [[0, 64]], [[0]], [[0, 1, 2]], [[-1, 0]], [[0.5, 0]], 'x', Array.from({ length: 257 }, (_, i) => [0, i % 64])]) {
      expect(parseChecks(bad, shape).ok, JSON.stringify(bad).slice(0, 40)).toBe(false);
    }
  });
});
