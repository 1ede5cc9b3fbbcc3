import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  auditPath,
  emptyTreeHash,
  hashChildren,
  hashLeaf,
  maxAuditPathLength,
  MerkleTree,
  merkleTreeHash,
  verifyInclusion,
  type InclusionFailure,
  type InclusionProof,
} from '../../proofs/merkle.js';
import { thrown } from '../helpers/errors.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

// The Certificate Transparency reference leaves and MTH(D[0:n]) for n = 0..8
// (RFC 6962 test data, as in Go's certificate-transparency and transparency-dev/merkle tests).
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(bytes);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
// Reference inclusion proofs from the same test data: [index, size, path].
const PATHS: [number, number, string[]][] = [
  [0, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [5, 8, ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [1, 5, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
];

const sha = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/** RFC 9162 §2.1.1 MTH, written as the RFC states it (recursive split at the largest power of two < n): the oracle for the bottom-up tree. */
function rfcMth(d: readonly Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha();
  if (d.length === 1) return sha(new Uint8Array([0]), d[0]!);
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return sha(new Uint8Array([1]), rfcMth(d.slice(0, k)), rfcMth(d.slice(k)));
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]) as the RFC states it. */
function rfcPath(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return m < k ? [...rfcPath(m, d.slice(0, k)), rfcMth(d.slice(k))] : [...rfcPath(m - k, d.slice(k)), rfcMth(d.slice(0, k))];
}

function proofFor(entries: readonly Uint8Array[], index: number): InclusionProof {
  return { leafHash: hashLeaf(entries[index]!), index, size: entries.length, path: auditPath(entries, index), root: merkleTreeHash(entries) };
}

function failure(proof: InclusionProof): InclusionFailure | 'ok' {
  const r = verifyInclusion(proof);
  return r.ok ? 'ok' : r.code;
}

describe('Merkle Tree Hash (RFC 9162 §2.1.1)', () => {
  it('hashes the empty tree to SHA-256 of the empty string', () => {
    expect(hex(emptyTreeHash())).toBe(ROOTS[0]);
    expect(hex(merkleTreeHash([]))).toBe(ROOTS[0]);
  });

  it('matches the RFC 6962 reference roots for every prefix of the 8 reference leaves', () => {
    for (let n = 1; n <= 8; n++) expect(hex(merkleTreeHash(LEAVES.slice(0, n))), `size ${n}`).toBe(ROOTS[n]);
  });

  it('separates leaves from nodes (0x00 / 0x01 prefixes)', () => {
    const d = bytes('00');
    expect(hex(hashLeaf(d))).toBe(createHash('sha256').update(Buffer.from([0, 0])).digest('hex'));
    const l = hashLeaf(LEAVES[0]!);
    const r = hashLeaf(LEAVES[1]!);
    expect(hex(hashChildren(l, r))).toBe(createHash('sha256').update(Buffer.from([1])).update(l).update(r).digest('hex'));
    // A one-leaf tree is its leaf hash, not the raw entry.
    expect(hex(merkleTreeHash([d]))).toBe(hex(hashLeaf(d)));
  });

  it('MerkleTree.fromLeafHashes is the tree over pre-hashed leaves', () => {
    const tree = MerkleTree.fromLeafHashes(LEAVES.map(hashLeaf));
    expect(tree.size).toBe(8);
    expect(hex(tree.root())).toBe(ROOTS[8]);
    expect(hex(MerkleTree.fromLeafHashes([]).root())).toBe(ROOTS[0]);
    expect(thrown(() => MerkleTree.fromLeafHashes([new Uint8Array(31)])).code).toBe('bad-input');
    // Roots and paths are copies: changing one does not change the tree.
    tree.root().fill(0);
    tree.auditPath(0)[0]!.fill(0);
    expect(hex(tree.root())).toBe(ROOTS[8]);
    expect(tree.auditPath(0).map(hex)).toEqual(PATHS[0]![2]);
  });

  it("agrees with the RFC's recursive definitions of MTH and PATH for any tree (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 70 }), (entries) => {
        const tree = MerkleTree.fromEntries(entries);
        expect(hex(tree.root())).toBe(hex(rfcMth(entries)));
        for (let m = 0; m < entries.length; m++) expect(tree.auditPath(m).map(hex)).toEqual(rfcPath(m, entries).map(hex));
      }),
      { numRuns: 60 },
    );
  });
});

describe('audit paths (RFC 9162 §2.1.3)', () => {
  it('generates the reference inclusion proofs', () => {
    for (const [index, size, path] of PATHS) {
      expect(auditPath(LEAVES.slice(0, size), index).map(hex), `leaf ${index} of ${size}`).toEqual(path);
    }
  });

  it('verifies the path of every leaf of every tree of 1..8 leaves, with the expected length', () => {
    for (let size = 1; size <= 8; size++) {
      const entries = LEAVES.slice(0, size);
      for (let index = 0; index < size; index++) {
        const proof = proofFor(entries, index);
        expect(hex(proof.root)).toBe(ROOTS[size]);
        expect(verifyInclusion(proof), `leaf ${index} of ${size}`).toEqual({ ok: true });
        expect(proof.path.length).toBeLessThanOrEqual(maxAuditPathLength(size));
      }
    }
    expect([1, 2, 3, 4, 5, 8, 9, 1024, 1025].map(maxAuditPathLength)).toEqual([0, 1, 2, 2, 3, 3, 4, 10, 11]);
  });

  it('rejects tampered paths, leaves, roots, indices and sizes for every leaf of every tree of 1..8 leaves', () => {
    const empty = emptyTreeHash();
    for (let size = 1; size <= 8; size++) {
      const entries = LEAVES.slice(0, size);
      for (let index = 0; index < size; index++) {
        const proof = proofFor(entries, index);
        const at = `leaf ${index} of ${size}`;
        for (let p = 0; p < proof.path.length; p++) {
          const path = [...proof.path];
          const flipped = new Uint8Array(path[p]!);
          flipped[31] = flipped[31]! ^ 1;
          path[p] = flipped;
          expect(failure({ ...proof, path }), at).toBe('root-mismatch');
          path[p] = empty;
          expect(failure({ ...proof, path }), at).toBe('root-mismatch');
        }
        expect(failure({ ...proof, leafHash: hashLeaf(bytes('ff')) }), at).not.toBe('ok');
        expect(failure({ ...proof, leafHash: hashLeaf(entries[index]!).map((b, i) => (i === 0 ? b ^ 0x80 : b)) }), at).not.toBe('ok');
        expect(failure({ ...proof, root: empty }), at).toBe('root-mismatch');
        // Appending anything, or prepending the root or the first hash, breaks the proof.
        expect(failure({ ...proof, path: [...proof.path, proof.root] }), at).not.toBe('ok');
        expect(failure({ ...proof, path: [proof.root, ...proof.path] }), at).not.toBe('ok');
        if (proof.path.length > 0) {
          expect(failure({ ...proof, path: proof.path.slice(0, -1) }), at).not.toBe('ok');
          expect(failure({ ...proof, path: proof.path.slice(1) }), at).not.toBe('ok');
        }
        for (const other of [index - 1, index + 1, index ^ 2]) {
          if (other !== index) expect(failure({ ...proof, index: other }), `${at} as index ${other}`).not.toBe('ok');
        }
        // A path also holds in some nearby sizes (leaf 0 of 3 and of 4 share one), so only halve and double.
        for (const otherSize of [size * 2, Math.floor(size / 2)]) {
          expect(failure({ ...proof, size: otherSize }), `${at} in size ${otherSize}`).not.toBe('ok');
        }
      }
    }
  });

  it('reports a path of the wrong length as too long or too short', () => {
    const proof = proofFor(LEAVES, 3);
    expect(failure({ ...proof, path: [...proof.path, proof.root] })).toBe('path-too-long');
    expect(failure({ ...proof, path: proof.path.slice(0, -1) })).toBe('path-too-short');
    expect(failure({ ...proofFor(LEAVES.slice(0, 1), 0), path: [emptyTreeHash()] })).toBe('path-too-long');
  });

  it('returns a reason rather than throwing on malformed input', () => {
    const proof = proofFor(LEAVES, 2);
    expect(failure({ ...proof, index: 8 })).toBe('bad-index');
    expect(failure({ ...proof, index: -1 })).toBe('bad-index');
    expect(failure({ ...proof, index: 1.5 })).toBe('bad-index');
    expect(failure({ ...proof, index: Number.NaN })).toBe('bad-index');
    expect(failure({ ...proof, size: 0, index: 0 })).toBe('bad-index');
    expect(failure({ ...proof, leafHash: new Uint8Array(31) })).toBe('bad-length');
    expect(failure({ ...proof, root: new Uint8Array(33) })).toBe('bad-length');
    expect(failure({ ...proof, path: [proof.path[0]!, new Uint8Array(0), proof.path[2]!] })).toBe('bad-length');
    const r = verifyInclusion({ ...proof, index: 9 });
    expect(r.ok ? '' : r.reason).toBe('leaf index 9 is outside a tree of 8 leaves');
  });

  it('verifies every path and rejects every single-bit flip in random trees (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.nat(),
        (entries, pick, bit) => {
          const index = pick % entries.length;
          const proof = proofFor(entries, index);
          expect(verifyInclusion(proof).ok).toBe(true);
          if (proof.path.length === 0) return;
          const path = proof.path.map((h) => new Uint8Array(h));
          const p = bit % path.length;
          const entry = path[p]!;
          const at = (bit >> 3) % 32;
          entry[at] = entry[at]! ^ (1 << (bit % 8));
          expect(verifyInclusion({ ...proof, path }).ok).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses to build a path for a leaf outside the tree', () => {
    expect(thrown(() => auditPath(LEAVES, 8)).code).toBe('bad-input');
    expect(thrown(() => MerkleTree.fromEntries([]).auditPath(0)).code).toBe('bad-input');
    expect(thrown(() => MerkleTree.fromEntries(LEAVES).auditPath(-1)).code).toBe('bad-input');
  });
});
