import { describe, expect, it } from 'vitest';
import { verifyChain, type ChainErrorCode } from '../../proofs/chain.js';
import { recordLine, signEnvelope, ZERO_HASH, buildEnvelope } from '../../proofs/envelope.js';
import { makeChain, testKey, uptimeBody } from '../helpers/keys.js';

type Json = Record<string, unknown>;
const key = testKey('chain-a');
const other = testKey('chain-b');
const records = makeChain(key, 6);
const lines = (): Json[] => records.map((r) => JSON.parse(recordLine(r.record)) as Json);

/** Every leaf path of a JSON value, for exhaustive single-field flips. */
function leaves(v: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => leaves(x, [...path, i]));
  if (v !== null && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, k]));
  return [path];
}
function setAt(root: unknown, path: (string | number)[], value: unknown): void {
  let o = root as Record<string | number, unknown>;
  for (const p of path.slice(0, -1)) o = o[p] as Record<string | number, unknown>;
  o[path[path.length - 1]!] = value;
}
function getAt(root: unknown, path: (string | number)[]): unknown {
  let o = root as Record<string | number, unknown>;
  for (const p of path) o = o[p] as Record<string | number, unknown>;
  return o;
}
function flip(v: unknown): unknown {
  if (typeof v === 'number') return v + 1;
  if (typeof v === 'boolean') return !v;
  if (v === null) return 0;
  const s = v as string;
  const last = s[s.length - 1] ?? 'a';
  return s.slice(0, -1) + (last === '0' ? '1' : last === 'a' ? 'b' : /[0-9a-f]/.test(last) ? '0' : 'a');
}

describe('verifyChain', () => {
  it('accepts a valid export from several nodes and summarises each chain', () => {
    const b = makeChain(other, 3);
    const mixed = [records[0], b[0], records[1], b[1], b[2], ...records.slice(2)].map((r) => JSON.parse(recordLine(r!.record)) as unknown);
    const r = verifyChain(mixed);
    expect(r.ok).toBe(true);
    expect(r.summary.records).toBe(9);
    const byNode = Object.fromEntries(r.summary.nodes.map((n) => [n.node, n]));
    expect(byNode[key.id]).toMatchObject({ firstSeq: 1, headSeq: 6, headHash: records[5]!.hash, records: 6 });
    expect(byNode[other.id]).toMatchObject({ firstSeq: 1, headSeq: 3, headHash: b[2]!.hash, records: 3 });
  });

  it('accepts a chain that starts after seq 1 (a pruned or partial export)', () => {
    expect(verifyChain(lines().slice(2)).ok).toBe(true);
  });

  it('detects every single-field flip in every record with the right code', () => {
    let checked = 0;
    for (let i = 0; i < records.length; i++) {
      for (const path of leaves(lines()[i])) {
        const input = lines();
        const target = input[i]!;
        setAt(target, path, flip(getAt(target, path)));
        const r = verifyChain(input);
        expect(r.ok, `flip ${path.join('.')} of record ${i + 1}`).toBe(false);
        if (r.ok) continue;
        expect(r.problem.index).toBe(i + 1);
        const leaf = path.join('.');
        const expected: ChainErrorCode[] = leaf === 'env.v' || leaf === 'env.body.dtype' ? ['schema'] : leaf.startsWith('env.body.util') ? ['schema'] : ['bad-signature', 'schema'];
        expect(expected, `flip ${leaf} gave ${r.problem.code}`).toContain(r.problem.code);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it.each<[string, (l: Json[]) => Json[], ChainErrorCode, number]>([
    ['a dropped record', (l) => [...l.slice(0, 2), ...l.slice(3)], 'seq-gap', 3],
    ['two records swapped', (l) => [l[0]!, l[2]!, l[1]!, ...l.slice(3)], 'seq-gap', 2],
    ['a duplicated record', (l) => [...l.slice(0, 3), l[2]!, ...l.slice(3)], 'duplicate-seq', 4],
    ['a record repeated much later', (l) => [...l, l[1]!], 'duplicate-seq', 7],
    ['the chain reversed', (l) => [...l].reverse(), 'seq-gap', 2],
  ])('detects %s', (_what, mutate, code, index) => {
    const r = verifyChain(mutate(lines()));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toMatchObject({ code, index, node: key.id });
  });

  it('detects equivocation: a second, validly signed record for a held seq', () => {
    const l = lines();
    const forged = signEnvelope(buildEnvelope({ kind: 'uptime', node: key.id, seq: 3, prev: records[1]!.hash, time: 5, body: uptimeBody(99) }), key);
    const r = verifyChain([...l, JSON.parse(recordLine(forged.record)) as Json]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toMatchObject({ code: 'equivocation', index: 7, seq: 3 });
  });

  it('detects a validly signed record whose prev does not link (broken-chain)', () => {
    const l = lines();
    const relinked = signEnvelope(buildEnvelope({ kind: 'uptime', node: key.id, seq: 7, prev: records[4]!.hash, time: 5, body: uptimeBody(7) }), key);
    const r = verifyChain([...l, JSON.parse(recordLine(relinked.record)) as Json]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toMatchObject({ code: 'broken-chain', index: 7, path: 'env.prev' });
    const badGenesis = signEnvelope(buildEnvelope({ kind: 'uptime', node: other.id, seq: 1, prev: records[0]!.hash, time: 5, body: uptimeBody(1) }), other);
    const g = verifyChain([JSON.parse(recordLine(badGenesis.record)) as Json]);
    expect(g.ok).toBe(false);
    if (!g.ok) expect(g.problem.code).toBe('broken-chain');
    expect(ZERO_HASH).toHaveLength(64);
  });

  it('grows its hash index past the initial capacity', () => {
    const long = makeChain(key, 150).map((r) => JSON.parse(recordLine(r.record)) as Json);
    const r = verifyChain([...long, long[120]!]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toMatchObject({ code: 'duplicate-seq', seq: 121 });
  });
});
