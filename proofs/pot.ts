/**
 * Proof of Throughput (DESIGN §6, docs/PROTOCOL.md §4): the reference
 * implementation every other one (the CUDA epilogue, the native CPU path) is
 * held to, and the coordinator's verifier.
 *
 *   k0..k3   = SHA-256("capanode:pot:v1" ‖ seed)[0..16] as four u32 LE
 *   s(m,r)   = lowbias32(k0 ^ lowbias32(((r << 1) | m) ^ k1))
 *   A_r[i][j] = lowbias32(s(0,r) ^ (i*n+j)) mod 511 - 255
 *   B[i][j]   = lowbias32(s(1,0) ^ (i*n+j)) mod 31 - 15
 *   C_r = A_r × B, digest(r,i) = u32le(d1) ‖ u32le(d2) over row i of C_r
 *   repHash(r) = SHA-256("capanode:pot:v1:rep" ‖ u32le(r) ‖ digest(r,0..n-1))
 *   root = RFC 9162 MTH(repHash(0..reps-1))
 *
 * All arithmetic is u32 with wrap-around, written with Math.imul, `| 0` and
 * `>>> 0` so V8 keeps it in 32-bit registers. Nothing here does I/O.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CapanodeError } from '../common/errors.js';
import { describeZodIssues } from './envelope.js';
import { HEX64 } from './keys.js';
import { bytesEqual, hashLeaf, maxAuditPathLength, merkleTreeHash, MERKLE_HASH_BYTES, MerkleTree, verifyInclusion } from './merkle.js';

export const POT_DOMAIN = 'capanode:pot:v1';
export const POT_REP_DOMAIN = 'capanode:pot:v1:rep';
export const POT_SEED_BYTES = 32;
/** Bytes of one row digest: u32le(d1) ‖ u32le(d2). */
export const POT_DIGEST_BYTES = 8;
export const POT_MIN_N = 64;
export const POT_MAX_N = 4096;
/** n must be a multiple of this (the GPU kernels' tile size). */
export const POT_N_MULTIPLE = 64;
/**
 * Upper bound on reps. Keeps (r << 1) | m inside a u32, audit paths at 20
 * hashes or fewer, and a node's table of rep hashes at 32 MiB; the fastest GPU
 * needs far fewer reps at n = 4096 to fill the 5 s a challenge aims for.
 */
export const POT_MAX_REPS = 1 << 20;
/** Checks a coordinator draws by default (DESIGN §6: a node skipping a fraction f passes with (1-f)^k). */
export const POT_DEFAULT_CHECKS = 16;
/** Most checks one `open` may carry: bounds the work a node or coordinator does for one reveal. */
export const POT_MAX_CHECKS = 256;

const REP_DOMAIN_BYTES = Buffer.from(POT_REP_DOMAIN, 'ascii');
const A_MODULUS = 511;
const A_OFFSET = 255;
const B_MODULUS = 31;
const B_OFFSET = 15;
const D1_STEP = 0x9e3779b9;
const D2_STEP = 0x85ebca6b;

/** The four u32 keys a seed expands to. */
export interface PotKeys {
  readonly k0: number;
  readonly k1: number;
  readonly k2: number;
  readonly k3: number;
}

/** One checked row: rep r, row i of C_r. On the wire `[r, i]`. */
export type PotCheck = readonly [r: number, i: number];

// ---------------------------------------------------------------------------
// Generation

/** The lowbias32 integer hash (Chris Wellons); returns a u32. Any int32 or u32 input. */
export function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

function badInput(message: string, hint: string): CapanodeError {
  return new CapanodeError('bad-input', message, { hint });
}

function assertN(n: number): void {
  // Any n computes (the CPU path, the n = 8 test vector); the protocol's own bounds are potParamsProblem's.
  if (!Number.isSafeInteger(n) || n < 1 || n > POT_MAX_N) {
    throw badInput(`PoT matrix size n = ${n} is not an integer in [1, ${POT_MAX_N}]`, `use n in [${POT_MIN_N}, ${POT_MAX_N}], a multiple of ${POT_N_MULTIPLE}`);
  }
}

function assertRep(r: number): void {
  if (!Number.isSafeInteger(r) || r < 0 || r >= POT_MAX_REPS) {
    throw badInput(`PoT rep index ${r} is not an integer in [0, ${POT_MAX_REPS})`, 'pass a rep index below the challenge\'s reps');
  }
}

function assertRow(i: number, n: number): void {
  if (!Number.isSafeInteger(i) || i < 0 || i >= n) throw badInput(`PoT row index ${i} is not an integer in [0, ${n})`, 'pass a row index below n');
}

/** k0..k3: the first 16 bytes of SHA-256("capanode:pot:v1" ‖ seed) as four u32 little endian. */
export function potKeys(seed: Uint8Array): PotKeys {
  if (seed.length !== POT_SEED_BYTES) {
    throw badInput(`a PoT seed is ${POT_SEED_BYTES} bytes, got ${seed.length}`, 'pass the challenge seed decoded from its 64 hex characters');
  }
  const k = createHash('sha256').update(POT_DOMAIN, 'ascii').update(seed).digest();
  return { k0: k.readUInt32LE(0), k1: k.readUInt32LE(4), k2: k.readUInt32LE(8), k3: k.readUInt32LE(12) };
}

/** s(m, r): the stream key of matrix m (0: A_r, 1: B with r = 0). */
export function matrixKey(keys: PotKeys, m: 0 | 1, r: number): number {
  return lowbias32(keys.k0 ^ lowbias32(((r << 1) | m) ^ keys.k1));
}

/** Row i of A_r (n entries in [-255, 255]). Writes into `out` when given. */
export function genARow(keys: PotKeys, r: number, n: number, i: number, out: Int16Array = new Int16Array(n)): Int16Array {
  assertN(n);
  assertRep(r);
  assertRow(i, n);
  const s = matrixKey(keys, 0, r);
  const base = i * n;
  for (let j = 0; j < n; j++) out[j] = (lowbias32(s ^ (base + j)) % A_MODULUS) - A_OFFSET;
  return out;
}

/** A_r, n×n row-major. */
export function genA(keys: PotKeys, r: number, n: number): Int16Array {
  assertN(n);
  assertRep(r);
  const s = matrixKey(keys, 0, r);
  const out = new Int16Array(n * n);
  // The flat index p is i*n + j.
  for (let p = 0; p < out.length; p++) out[p] = (lowbias32(s ^ p) % A_MODULUS) - A_OFFSET;
  return out;
}

/** B (shared by every rep), n×n row-major, entries in [-15, 15]. */
export function genB(keys: PotKeys, n: number): Int16Array {
  assertN(n);
  const s = matrixKey(keys, 1, 0);
  const out = new Int16Array(n * n);
  for (let p = 0; p < out.length; p++) out[p] = (lowbias32(s ^ p) % B_MODULUS) - B_OFFSET;
  return out;
}

// ---------------------------------------------------------------------------
// Row products and digests

/* eslint-disable @typescript-eslint/no-non-null-assertion -- the hot loops index typed arrays inside bounds their loop conditions guarantee; `!` costs nothing at run time */

/**
 * c += a·B and d += e·B for two rows at once: each B element loaded feeds
 * both rows, and eight rows of B are folded per pass over c and d, which
 * halves the loads and stores of a plain c[j] += a[k]·B[k][j]. Partial sums
 * stay below 2^24, so int32 is exact.
 */
function multiplyPair(a: Int16Array, e: Int16Array, B: Int16Array, n: number, c: Int32Array, d: Int32Array): void {
  const k8 = n - (n % 8);
  let k = 0;
  for (; k < k8; k += 8) {
    const a0 = a[k]!, a1 = a[k + 1]!, a2 = a[k + 2]!, a3 = a[k + 3]!, a4 = a[k + 4]!, a5 = a[k + 5]!, a6 = a[k + 6]!, a7 = a[k + 7]!;
    const e0 = e[k]!, e1 = e[k + 1]!, e2 = e[k + 2]!, e3 = e[k + 3]!, e4 = e[k + 4]!, e5 = e[k + 5]!, e6 = e[k + 6]!, e7 = e[k + 7]!;
    const b0 = k * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n, b4 = b3 + n, b5 = b4 + n, b6 = b5 + n, b7 = b6 + n;
    for (let j = 0; j < n; j++) {
      const x0 = B[b0 + j]!, x1 = B[b1 + j]!, x2 = B[b2 + j]!, x3 = B[b3 + j]!, x4 = B[b4 + j]!, x5 = B[b5 + j]!, x6 = B[b6 + j]!, x7 = B[b7 + j]!;
      c[j] = c[j]! + a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 + a4 * x4 + a5 * x5 + a6 * x6 + a7 * x7;
      d[j] = d[j]! + e0 * x0 + e1 * x1 + e2 * x2 + e3 * x3 + e4 * x4 + e5 * x5 + e6 * x6 + e7 * x7;
    }
  }
  for (; k < n; k++) {
    const ak = a[k]!, ek = e[k]!, bk = k * n;
    for (let j = 0; j < n; j++) {
      const x = B[bk + j]!;
      c[j] = c[j]! + ak * x;
      d[j] = d[j]! + ek * x;
    }
  }
}

/** Rows of A (each n long) times B: the matching rows of C. */
function multiplyRows(aRows: readonly Int16Array[], B: Int16Array, n: number): Int32Array[] {
  const out = aRows.map(() => new Int32Array(n));
  // An odd row count pairs the last row with a zero row whose product is dropped.
  const zeroRow = new Int16Array(aRows.length % 2 === 1 ? n : 0);
  const discard = new Int32Array(zeroRow.length);
  for (let t = 0; t < aRows.length; t += 2) {
    multiplyPair(aRows[t]!, aRows[t + 1] ?? zeroRow, B, n, out[t]!, out[t + 1] ?? discard);
  }
  return out;
}

/** digest(r, i) of one row of C_r: u32le(d1) ‖ u32le(d2), each c_j taken as u32. */
export function rowDigest(keys: PotKeys, cRow: Int32Array): Uint8Array {
  const { k2, k3 } = keys;
  let d1 = 0;
  let d2 = 0;
  for (let j = 0; j < cRow.length; j++) {
    const c = cRow[j]!;
    d1 = (d1 + lowbias32(((c ^ k2) + Math.imul(j, D1_STEP)) | 0)) | 0;
    d2 = (d2 + lowbias32(((c ^ k3) + Math.imul(j, D2_STEP)) | 0)) | 0;
  }
  const out = new Uint8Array(POT_DIGEST_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, d1 >>> 0, true);
  view.setUint32(4, d2 >>> 0, true);
  return out;
}

/* eslint-enable @typescript-eslint/no-non-null-assertion */

/** Rows multiplied per pass: enough to reuse each B row from cache, few enough to bound memory. */
const ROW_BLOCK = 64;

function assertB(B: Int16Array, n: number): void {
  if (B.length !== n * n) throw badInput(`B has ${B.length} entries, n = ${n} needs ${n * n}`, 'build B with genB(keys, n) for the same seed and n');
}

/**
 * digest(r, i) for each check, in the order given: the verifier's cost
 * (B once, then one row product per check). Pass B to reuse one built for
 * the same seed and n. Any mix of reps; rows need not be distinct.
 */
export function computeCheckDigests(seed: Uint8Array, n: number, checks: readonly PotCheck[], B?: Int16Array): Uint8Array[] {
  assertN(n);
  const keys = potKeys(seed);
  for (const [r, i] of checks) {
    assertRep(r);
    assertRow(i, n);
  }
  const b = B ?? genB(keys, n);
  assertB(b, n);
  const out: Uint8Array[] = [];
  for (let start = 0; start < checks.length; start += ROW_BLOCK) {
    const block = checks.slice(start, start + ROW_BLOCK);
    const rows = multiplyRows(block.map(([r, i]) => genARow(keys, r, n, i)), b, n);
    for (const row of rows) out.push(rowDigest(keys, row));
  }
  return out;
}

/** digest(r, i) for the given rows of rep r. */
export function computeRowDigests(seed: Uint8Array, n: number, r: number, rows: readonly number[], B?: Int16Array): Uint8Array[] {
  return computeCheckDigests(seed, n, rows.map((i): PotCheck => [r, i]), B);
}

/** All n digests of rep r, concatenated (8n bytes): what a reveal carries for r. */
export function computeRep(seed: Uint8Array, n: number, r: number, B?: Int16Array): Uint8Array {
  const rows = Array.from({ length: n }, (_, i) => i);
  const out = new Uint8Array(n * POT_DIGEST_BYTES);
  computeRowDigests(seed, n, r, rows, B).forEach((d, i) => out.set(d, i * POT_DIGEST_BYTES));
  return out;
}

/** repHash(r) = SHA-256("capanode:pot:v1:rep" ‖ u32le(r) ‖ digests), digests the 8n bytes of rep r. */
export function repHash(r: number, digests: Uint8Array): Uint8Array {
  assertRep(r);
  const index = Buffer.alloc(4);
  index.writeUInt32LE(r);
  return new Uint8Array(createHash('sha256').update(REP_DOMAIN_BYTES).update(index).update(digests).digest());
}

/** A whole answer to a challenge. */
export interface PotProof {
  /** MTH(repHashes): what the node commits. */
  root: Uint8Array;
  /** For each rep, its n digests (8n bytes). */
  repDigests: Uint8Array[];
  /** For each rep, repHash(r, repDigests[r]). */
  repHashes: Uint8Array[];
}

/** Computes every rep on the CPU (n³ multiply-adds per rep): the tests' oracle and the slow CPU backend. */
export function computePot(seed: Uint8Array, n: number, reps: number): PotProof {
  assertN(n);
  if (!Number.isSafeInteger(reps) || reps < 1 || reps > POT_MAX_REPS) {
    throw badInput(`PoT reps = ${reps} is not an integer in [1, ${POT_MAX_REPS}]`, 'use the reps of the challenge');
  }
  const B = genB(potKeys(seed), n);
  const repDigests = Array.from({ length: reps }, (_, r) => computeRep(seed, n, r, B));
  const repHashes = repDigests.map((d, r) => repHash(r, d));
  return { root: merkleTreeHash(repHashes), repDigests, repHashes };
}

// ---------------------------------------------------------------------------
// Parameters and checks

export interface PotParamOptions {
  /** Lift the protocol's bounds on n (any n in [1, 4096]): only for the n = 8 test vector. */
  allowTinyN?: boolean;
}

/** Why (n, reps) is not a valid challenge, or undefined when it is. */
export function potParamsProblem(n: number, reps: number, options: PotParamOptions = {}): string | undefined {
  if (options.allowTinyN === true) {
    if (!Number.isSafeInteger(n) || n < 1 || n > POT_MAX_N) return `n = ${n} is not an integer in [1, ${POT_MAX_N}]`;
  } else if (!Number.isSafeInteger(n) || n < POT_MIN_N || n > POT_MAX_N || n % POT_N_MULTIPLE !== 0) {
    return `n = ${n} is not a multiple of ${POT_N_MULTIPLE} in [${POT_MIN_N}, ${POT_MAX_N}]`;
  }
  if (!Number.isSafeInteger(reps) || reps < 1 || reps > POT_MAX_REPS) return `reps = ${reps} is not an integer in [1, ${POT_MAX_REPS}]`;
  return undefined;
}

/** Throws CapanodeError('bad-input') naming the bad parameter when (n, reps) is not a valid challenge. */
export function validatePotParams(n: number, reps: number, options: PotParamOptions = {}): void {
  const problem = potParamsProblem(n, reps, options);
  if (problem !== undefined) {
    throw badInput(`invalid PoT challenge: ${problem}`, `use n a multiple of ${POT_N_MULTIPLE} in [${POT_MIN_N}, ${POT_MAX_N}] and reps in [1, ${POT_MAX_REPS}]`);
  }
}

/** A source of cryptographically secure random bytes, e.g. node:crypto's randomBytes. */
export type RandomBytes = (size: number) => Uint8Array;

const TWO_32 = 2 ** 32;

/** Reads u32s from a byte source, a batch at a time. */
function u32Reader(randomBytes: RandomBytes): () => number {
  const batch = 256;
  let buf: Uint8Array = new Uint8Array(0);
  let view = new DataView(buf.buffer);
  let at = 0;
  return () => {
    if (at + 4 > buf.length) {
      buf = randomBytes(batch);
      if (buf.length !== batch) throw new CapanodeError('bad-input', `the random source returned ${buf.length} bytes, not ${batch}`, { hint: 'pass a randomBytes(size) that returns exactly size bytes' });
      view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      at = 0;
    }
    const x = view.getUint32(at, true);
    at += 4;
    return x;
  };
}

/** Uniform in [0, bound), bound in [1, 2^32], by rejection: no modulo bias. */
function uniformBelow(bound: number, nextU32: () => number): number {
  const limit = TWO_32 - (TWO_32 % bound);
  for (;;) {
    const x = nextU32();
    if (x < limit) return x % bound;
  }
}

/**
 * Draws k distinct (r, i) pairs uniformly from reps × n. Pure given the byte
 * source: pass node:crypto's randomBytes in production, a fixed stream in tests.
 */
export function chooseChecks(reps: number, n: number, k: number, randomBytes: RandomBytes): PotCheck[] {
  if (!Number.isSafeInteger(reps) || reps < 1 || reps > POT_MAX_REPS) throw badInput(`reps = ${reps} is not an integer in [1, ${POT_MAX_REPS}]`, 'pass the challenge\'s reps');
  assertN(n);
  if (!Number.isSafeInteger(k) || k < 1 || k > POT_MAX_CHECKS || k > reps * n) {
    throw badInput(`cannot draw k = ${k} distinct checks from ${reps} reps × ${n} rows`, `use 1 <= k <= ${POT_MAX_CHECKS} and at most reps × n`);
  }
  const next = u32Reader(randomBytes);
  const seen = new Set<number>();
  const out: PotCheck[] = [];
  while (out.length < k) {
    const r = uniformBelow(reps, next);
    const i = uniformBelow(n, next);
    const key = r * n + i;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push([r, i]);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Reveals

/** One rep opened by a node: its n digests and the audit path of leaf r. */
export interface RevealItem {
  r: number;
  /** digest(r, 0) ‖ … ‖ digest(r, n-1): 8n bytes. */
  digests: Uint8Array;
  /** RFC 9162 audit path of leaf r, leaf end first, 32 bytes each. */
  path: Uint8Array[];
}

export interface BuildRevealInput {
  checks: readonly PotCheck[];
  /** repHash(r) of every rep, in order. */
  repHashes: readonly Uint8Array[];
  /** The n digests of each rep: an array indexed by r, or a function of r (only checked reps are asked for). */
  repDigests: readonly Uint8Array[] | ((r: number) => Uint8Array);
}

/** The node's answer to `open`: one item per distinct checked rep, ascending r. `buildReveal({checks, ...proof})` for a PotProof. */
export function buildReveal(input: BuildRevealInput): RevealItem[] {
  const { checks, repHashes, repDigests } = input;
  const tree = MerkleTree.fromEntries(repHashes);
  const reps = [...new Set(checks.map(([r]) => r))].sort((x, y) => x - y);
  return reps.map((r) => {
    const d = typeof repDigests === 'function' ? repDigests(r) : repDigests[r];
    if (d === undefined) throw badInput(`no digests for checked rep ${r}`, 'keep every rep\'s digests until the challenge is answered');
    return { r, digests: d, path: tree.auditPath(r) };
  });
}

export type RevealFailureCode =
  /** n, reps, seed or root is malformed (the coordinator's own inputs). */
  | 'bad-params'
  /** A check is out of range or repeated (the coordinator's own inputs). */
  | 'bad-check'
  /** A checked rep has no item. */
  | 'missing-rep'
  /** Two items for one rep. */
  | 'duplicate-rep'
  /** An item for a rep that was not checked. */
  | 'extra-items'
  /** An item's digests are not 8n bytes. */
  | 'bad-length'
  /** An item's audit path is malformed or does not lead from repHash(r) to the committed root. */
  | 'bad-path'
  /** Two reps revealed the same digests: one rep's result stood in for another's. */
  | 'wrong-rep'
  /** A checked row's digest is not the recomputed one: the node did not compute that row. */
  | 'wrong-digest';

export type RevealFailure = { ok: false; code: RevealFailureCode; reason: string; r?: number; i?: number };
export type RevealResult = { ok: true } | RevealFailure;

export interface RevealInput {
  seed: Uint8Array;
  n: number;
  reps: number;
  /** The root the node committed. */
  root: Uint8Array;
  /** The checks the coordinator sent in `open`. */
  checks: readonly PotCheck[];
  /** The node's items (parsed with parseRevealItems). */
  reveal: readonly RevealItem[];
}

/** The row digests a reveal claims, paired with the checks to recompute: what is left once the structure holds. */
export interface RevealPlan {
  seed: Uint8Array;
  n: number;
  checks: readonly PotCheck[];
  /** The revealed digest(r, i) for each check, same order. */
  claimed: readonly Uint8Array[];
}

/** Computes digest(r, i) for each check, in order: computeCheckDigests, or a native implementation. */
export type RowDigestFn = (seed: Uint8Array, n: number, checks: readonly PotCheck[]) => Uint8Array[];

export interface VerifyRevealOptions extends PotParamOptions {
  rowDigests?: RowDigestFn;
}

function reject(code: RevealFailureCode, reason: string, at: { r?: number; i?: number } = {}): RevealFailure {
  return { ok: false, code, reason, ...at };
}

function checkInputs(input: RevealInput, options: PotParamOptions): RevealFailure | undefined {
  const { seed, n, reps, root, checks } = input;
  const problem = potParamsProblem(n, reps, options);
  if (problem !== undefined) return reject('bad-params', problem);
  if (seed.length !== POT_SEED_BYTES) return reject('bad-params', `seed is ${seed.length} bytes, not ${POT_SEED_BYTES}`);
  if (root.length !== MERKLE_HASH_BYTES) return reject('bad-params', `root is ${root.length} bytes, not ${MERKLE_HASH_BYTES}`);
  if (checks.length < 1 || checks.length > POT_MAX_CHECKS) return reject('bad-check', `${checks.length} checks; expected 1 to ${POT_MAX_CHECKS}`);
  const seen = new Set<number>();
  for (const [r, i] of checks) {
    if (!Number.isSafeInteger(r) || r < 0 || r >= reps || !Number.isSafeInteger(i) || i < 0 || i >= n) {
      return reject('bad-check', `check [${r}, ${i}] is outside ${reps} reps × ${n} rows`, { r, i });
    }
    if (seen.has(r * n + i)) return reject('bad-check', `check [${r}, ${i}] appears twice`, { r, i });
    seen.add(r * n + i);
  }
  return undefined;
}

/**
 * Every check of a reveal except recomputing the rows: inputs, one item per
 * checked rep and no other, digest lengths, reuse of one rep's digests for
 * another, and each audit path against the committed root. Cheap (hashing
 * only), so a coordinator can run it on its event loop, compute the rows
 * elsewhere (a native worker) and finish with compareRowDigests.
 */
export function checkRevealStructure(input: RevealInput, options: PotParamOptions = {}): { ok: true; plan: RevealPlan } | RevealFailure {
  const bad = checkInputs(input, options);
  if (bad !== undefined) return bad;
  const { seed, n, reps, root, checks, reveal } = input;
  const checkedReps = new Set(checks.map(([r]) => r));
  const items = new Map<number, RevealItem>();
  for (const item of reveal) {
    if (!checkedReps.has(item.r)) return reject('extra-items', `item for rep ${item.r}, which was not checked`, { r: item.r });
    if (items.has(item.r)) return reject('duplicate-rep', `two items for rep ${item.r}`, { r: item.r });
    items.set(item.r, item);
  }
  for (const r of checkedReps) {
    if (!items.has(r)) return reject('missing-rep', `no item for checked rep ${r}`, { r });
  }
  const digestBytes = n * POT_DIGEST_BYTES;
  const byContent = new Map<string, number>();
  for (const item of items.values()) {
    if (item.digests.length !== digestBytes) {
      return reject('bad-length', `rep ${item.r} reveals ${item.digests.length} bytes of digests, n = ${n} needs ${digestBytes}`, { r: item.r });
    }
    // Honest reps never share digests; equal ones mean a node reused one rep's result for another.
    const fingerprint = createHash('sha256').update(item.digests).digest('hex');
    const twin = byContent.get(fingerprint);
    if (twin !== undefined) return reject('wrong-rep', `reps ${twin} and ${item.r} reveal the same digests`, { r: item.r });
    byContent.set(fingerprint, item.r);
  }
  for (const item of items.values()) {
    const included = verifyInclusion({ leafHash: hashLeaf(repHash(item.r, item.digests)), index: item.r, size: reps, path: item.path, root });
    if (!included.ok) {
      const reason = included.code === 'root-mismatch' ? `the digests and audit path of rep ${item.r} do not lead to the committed root` : `rep ${item.r}: ${included.reason}`;
      return reject('bad-path', reason, { r: item.r });
    }
  }
  const claimed = checks.map(([r, i]) => {
    const item = items.get(r) as RevealItem;
    return item.digests.subarray(i * POT_DIGEST_BYTES, (i + 1) * POT_DIGEST_BYTES);
  });
  return { ok: true, plan: { seed, n, checks, claimed } };
}

/** Finishes a verification: compares the recomputed digest of each check with the revealed one. */
export function compareRowDigests(plan: RevealPlan, computed: readonly Uint8Array[]): RevealResult {
  if (computed.length !== plan.checks.length) {
    throw new CapanodeError('bad-input', `${computed.length} recomputed digests for ${plan.checks.length} checks`, { hint: 'compute one digest per check, in the order of plan.checks' });
  }
  for (let t = 0; t < plan.checks.length; t++) {
    const [r, i] = plan.checks[t] as PotCheck;
    const want = computed[t] as Uint8Array;
    if (want.length !== POT_DIGEST_BYTES) {
      throw new CapanodeError('bad-input', `recomputed digest ${t} is ${want.length} bytes, not ${POT_DIGEST_BYTES}`, { hint: 'a row digest is u32le(d1) ‖ u32le(d2)' });
    }
    if (!bytesEqual(plan.claimed[t] as Uint8Array, want)) return reject('wrong-digest', `row ${i} of rep ${r} does not match its recomputation`, { r, i });
  }
  return { ok: true };
}

/** Verifies a reveal against the committed root: checkRevealStructure, then the checked rows recomputed. */
export function verifyReveal(input: RevealInput, options: VerifyRevealOptions = {}): RevealResult {
  const structure = checkRevealStructure(input, options);
  if (!structure.ok) return structure;
  const { plan } = structure;
  const rowDigests = options.rowDigests ?? computeCheckDigests;
  return compareRowDigests(plan, rowDigests(plan.seed, plan.n, plan.checks));
}

// ---------------------------------------------------------------------------
// Wire forms: reveal {items:[{r, digests:BASE64, path:[HEX64...]}]}, open {checks:[[r,i],...]}

/** A reveal item as it travels on the link. */
export interface RevealItemWire {
  r: number;
  /** Standard base64 with padding of the 8n digest bytes. */
  digests: string;
  /** Audit path as lowercase hex, leaf end first. */
  path: string[];
}

export interface PotShape {
  n: number;
  reps: number;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; issues: { path: string; message: string }[] };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Schema for `reveal.items` of a challenge of this shape: exact digest length, path no longer than the tree is deep. */
export function revealItemsSchema(shape: PotShape): z.ZodType<RevealItem[], RevealItemWire[]> {
  const digestBytes = shape.n * POT_DIGEST_BYTES;
  const digestChars = 4 * Math.ceil(digestBytes / 3);
  const maxPath = maxAuditPathLength(shape.reps);
  const item = z.strictObject({
    r: z.number().int().min(0).max(shape.reps - 1, `must be a rep index below ${shape.reps}`),
    digests: z
      .string()
      .length(digestChars, `must be ${digestChars} base64 characters (${digestBytes} bytes)`)
      .regex(BASE64, 'must be standard base64 with padding')
      .transform((text, ctx) => {
        const bytes = Buffer.from(text, 'base64');
        // Buffer's decoder is lenient: accept only the one canonical encoding of 8n bytes.
        if (bytes.length !== digestBytes || bytes.toString('base64') !== text) {
          ctx.addIssue({ code: 'custom', message: `must be the canonical base64 of ${digestBytes} bytes` });
          return z.NEVER;
        }
        return new Uint8Array(bytes);
      }),
    path: z
      .array(z.string().regex(HEX64, 'must be 64 lowercase hex characters').transform((h) => new Uint8Array(Buffer.from(h, 'hex'))))
      .max(maxPath, `must hold at most ${maxPath} hashes for ${shape.reps} reps`),
  });
  return z.array(item).max(Math.min(shape.reps, POT_MAX_CHECKS), `must hold at most one item per checked rep`);
}

/** Parses untrusted `reveal.items`; never throws; every bad field is reported. */
export function parseRevealItems(raw: unknown, shape: PotShape, prefix = 'items'): ParseResult<RevealItem[]> {
  const parsed = revealItemsSchema(shape).safeParse(raw);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, issues: describeZodIssues(parsed.error, prefix) };
}

/** The wire form of reveal items. */
export function encodeRevealItems(items: readonly RevealItem[]): RevealItemWire[] {
  return items.map((item) => ({
    r: item.r,
    digests: Buffer.from(item.digests.buffer, item.digests.byteOffset, item.digests.byteLength).toString('base64'),
    path: item.path.map((h) => Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString('hex')),
  }));
}

/** Schema for `open.checks` of a challenge of this shape: 1 to 256 distinct in-range [r, i] pairs. */
export function checksSchema(shape: PotShape): z.ZodType<PotCheck[], [number, number][]> {
  const pair = z.tuple([
    z.number().int().min(0).max(shape.reps - 1, `rep must be below ${shape.reps}`),
    z.number().int().min(0).max(shape.n - 1, `row must be below ${shape.n}`),
  ]);
  return z
    .array(pair)
    .min(1, 'must hold at least one check')
    .max(POT_MAX_CHECKS, `must hold at most ${POT_MAX_CHECKS} checks`)
    .superRefine((checks, ctx) => {
      const seen = new Set<number>();
      checks.forEach(([r, i], at) => {
        if (seen.has(r * shape.n + i)) ctx.addIssue({ code: 'custom', path: [at], message: `repeats check [${r}, ${i}]` });
        seen.add(r * shape.n + i);
      });
    });
}

/** Parses untrusted `open.checks`; never throws. */
export function parseChecks(raw: unknown, shape: PotShape, prefix = 'checks'): ParseResult<PotCheck[]> {
  const parsed = checksSchema(shape).safeParse(raw);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, issues: describeZodIssues(parsed.error, prefix) };
}
