/**
 * RFC 9162 §2.1 Merkle trees over SHA-256 (the RFC 6962 construction):
 *
 *   MTH({})     = SHA-256("")
 *   leaf hash   = SHA-256(0x00 ‖ d)
 *   node hash   = SHA-256(0x01 ‖ left ‖ right)
 *   MTH(D[0:n]) = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n
 *
 * The 0x00 / 0x01 prefixes keep a leaf from ever being read as an interior
 * node (second-preimage resistance). Audit paths are §2.1.3.1's PATH(m, D[n])
 * and are checked by the §2.1.3.2 algorithm, step for step. Everything that
 * checks untrusted input returns a result instead of throwing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { CapanodeError } from '../common/errors.js';

/** Length in bytes of every hash here (SHA-256). */
export const MERKLE_HASH_BYTES = 32;

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** MTH of the empty tree: SHA-256 of the empty string. */
export function emptyTreeHash(): Uint8Array {
  return new Uint8Array(createHash('sha256').digest());
}

/** The leaf hash of entry d: SHA-256(0x00 ‖ d). */
export function hashLeaf(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(data).digest());
}

/** The interior node over two subtree hashes: SHA-256(0x01 ‖ left ‖ right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest());
}

function badIndex(index: number, size: number): CapanodeError {
  return new CapanodeError('bad-input', `leaf index ${index} is outside a tree of ${size} leaves`, {
    hint: 'ask for the audit path of a leaf that exists (0 <= index < size)',
  });
}

/**
 * A whole tree, every level kept, so a root and any number of audit paths
 * cost one pass of hashing. Built bottom-up: pairs are hashed left to right
 * and an unpaired last node moves up a level unchanged, which yields exactly
 * RFC 9162's largest-power-of-two split. Each level is one flat buffer of
 * 32-byte hashes (a million leaves: 64 MiB, not millions of small objects).
 */
export class MerkleTree {
  /** levels[0] holds the leaf hashes; the last level holds the root. */
  private readonly levels: Uint8Array[];
  readonly size: number;

  private constructor(leafHashes: Uint8Array, size: number) {
    this.size = size;
    this.levels = [leafHashes];
    let level = leafHashes;
    let count = size;
    while (count > 1) {
      const next = new Uint8Array(Math.ceil(count / 2) * MERKLE_HASH_BYTES);
      for (let j = 0; j + 1 < count; j += 2) next.set(hashChildren(node(level, j), node(level, j + 1)), (j / 2) * MERKLE_HASH_BYTES);
      if (count % 2 === 1) next.set(node(level, count - 1), ((count - 1) / 2) * MERKLE_HASH_BYTES);
      this.levels.push(next);
      level = next;
      count = Math.ceil(count / 2);
    }
  }

  /** The tree over entries D (each leaf hashed with hashLeaf). */
  static fromEntries(entries: readonly Uint8Array[]): MerkleTree {
    return MerkleTree.fromLeafHashes(entries.map(hashLeaf));
  }

  /** The tree over already-hashed leaves (each 32 bytes). */
  static fromLeafHashes(leafHashes: readonly Uint8Array[]): MerkleTree {
    const flat = new Uint8Array(leafHashes.length * MERKLE_HASH_BYTES);
    leafHashes.forEach((h, i) => {
      if (h.length !== MERKLE_HASH_BYTES) throw new CapanodeError('bad-input', `leaf hash ${i} is ${h.length} bytes, not ${MERKLE_HASH_BYTES}`, { hint: 'hash each entry with hashLeaf' });
      flat.set(h, i * MERKLE_HASH_BYTES);
    });
    return new MerkleTree(flat, leafHashes.length);
  }

  /** MTH(D); SHA-256("") for the empty tree. */
  root(): Uint8Array {
    if (this.size === 0) return emptyTreeHash();
    return node(this.levels[this.levels.length - 1] as Uint8Array, 0).slice();
  }

  /**
   * PATH(m, D[n]) of RFC 9162 §2.1.3.1: the sibling hashes from leaf m up to
   * the root, leaf end first. A node moved up unpaired has no sibling at
   * that level and adds nothing. Throws for an index outside the tree (a
   * caller's mistake, never untrusted input).
   */
  auditPath(index: number): Uint8Array[] {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) throw badIndex(index, this.size);
    const out: Uint8Array[] = [];
    let at = index;
    for (let l = 0; l + 1 < this.levels.length; l++) {
      const level = this.levels[l] as Uint8Array;
      const sibling = at % 2 === 0 ? at + 1 : at - 1;
      if (sibling * MERKLE_HASH_BYTES < level.length) out.push(node(level, sibling).slice());
      at = Math.floor(at / 2);
    }
    return out;
  }
}

function node(level: Uint8Array, j: number): Uint8Array {
  return level.subarray(j * MERKLE_HASH_BYTES, (j + 1) * MERKLE_HASH_BYTES);
}

/** MTH(D): the Merkle Tree Hash of the entries D (RFC 9162 §2.1.1). */
export function merkleTreeHash(entries: readonly Uint8Array[]): Uint8Array {
  return MerkleTree.fromEntries(entries).root();
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1 over the entries D. Build a MerkleTree for several paths of one tree. */
export function auditPath(entries: readonly Uint8Array[], index: number): Uint8Array[] {
  return MerkleTree.fromEntries(entries).auditPath(index);
}

/** The most hashes any audit path in a tree of `size` leaves can hold: ceil(log2(size)). */
export function maxAuditPathLength(size: number): number {
  let length = 0;
  while (2 ** length < size) length++;
  return length;
}

export type InclusionFailure = 'bad-index' | 'bad-length' | 'path-too-long' | 'path-too-short' | 'root-mismatch';

export type InclusionResult = { ok: true } | { ok: false; code: InclusionFailure; reason: string };

export interface InclusionProof {
  /** hashLeaf(entry) of the leaf being proven. */
  leafHash: Uint8Array;
  /** 0-based leaf index. */
  index: number;
  /** Number of leaves in the tree. */
  size: number;
  /** Audit path, leaf end first. */
  path: readonly Uint8Array[];
  /** The trusted root. */
  root: Uint8Array;
}

/** Constant-time equality of two byte strings (false, not a throw, on differing lengths). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function fail(code: InclusionFailure, reason: string): InclusionResult {
  return { ok: false, code, reason };
}

/**
 * Verifies an inclusion proof by the RFC 9162 §2.1.3.2 algorithm. Never
 * throws: malformed input (index outside the tree, a hash that is not 32
 * bytes, a path too long or too short) is a failure with a reason.
 */
export function verifyInclusion(proof: InclusionProof): InclusionResult {
  const { leafHash, index, size, path, root } = proof;
  if (!Number.isSafeInteger(size) || size < 1) return fail('bad-index', `tree size ${size} is not a positive integer`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    return fail('bad-index', `leaf index ${index} is outside a tree of ${size} leaves`);
  }
  if (leafHash.length !== MERKLE_HASH_BYTES) return fail('bad-length', `leaf hash is ${leafHash.length} bytes, not ${MERKLE_HASH_BYTES}`);
  if (root.length !== MERKLE_HASH_BYTES) return fail('bad-length', `root is ${root.length} bytes, not ${MERKLE_HASH_BYTES}`);
  for (let p = 0; p < path.length; p++) {
    const len = path[p]?.length ?? 0;
    if (len !== MERKLE_HASH_BYTES) return fail('bad-length', `audit path entry ${p} is ${len} bytes, not ${MERKLE_HASH_BYTES}`);
  }
  // Division rather than bit shifts: sizes may exceed 2^31.
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of path) {
    if (sn === 0) return fail('path-too-long', `audit path has ${path.length} entries, more than leaf ${index} of ${size} needs`);
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) return fail('path-too-short', `audit path has ${path.length} entries, fewer than leaf ${index} of ${size} needs`);
  if (!bytesEqual(r, root)) return fail('root-mismatch', `audit path for leaf ${index} of ${size} does not lead to the root`);
  return { ok: true };
}
