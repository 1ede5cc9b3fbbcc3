/**
 * NodeIngest against a real SQLite store: the ordering rules inside one
 * frame, and what happens when the store cannot commit.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Committer } from '../../coordinator/committer.js';
import { checkItem, type ItemResult } from '../../coordinator/frame.js';
import { NodeIngest } from '../../coordinator/ingest.js';
import { openSqliteStore, type SqliteStore } from '../../coordinator/store/sqlite.js';
import { buildEnvelope, recordLine, signEnvelope, type VerifiedRecord } from '../../proofs/envelope.js';
import type { KeyPair } from '../../proofs/keys.js';
import { makeChain, testKey, uptimeBody } from '../helpers/keys.js';
import { tempDir } from '../helpers/tmp.js';

const key = testKey('ingest-unit');
const chain = makeChain(key, 6);
const items = (records: VerifiedRecord[]): ItemResult[] => records.map((r) => checkItem(JSON.parse(recordLine(r.record))));
const now = 1_700_001_000_000;

function variant(k: KeyPair, seq: number, prev: string): VerifiedRecord {
  return signEnvelope(buildEnvelope({ kind: 'uptime', node: k.id, seq, prev, time: 1_700_000_000_000 + seq, body: uptimeBody(seq + 500) }), k);
}

async function setup(): Promise<{ store: SqliteStore; ingest: NodeIngest }> {
  const store = openSqliteStore(join(tempDir(), 'ledger.db'));
  await store.nodeConnected(key.id, { agent: 'capanode/0', inventory: { gpus: [] }, at: now });
  return { store, ingest: new NodeIngest(key.id, { seq: 0, hash: null }, store, new Committer(store)) };
}

describe('NodeIngest', () => {
  it('takes a frame in one commit and acks its last seq', async () => {
    const { store, ingest } = await setup();
    expect(await ingest.ingest(items(chain), now)).toEqual({ ack: 6, nack: null, equivocation: false, stored: 6 });
    expect((await store.getNode(key.id))?.headSeq).toBe(6);
    expect(ingest.expected).toBe(7);
  });

  it('treats a record repeated inside a frame as a duplicate, and a different one as equivocation with both kept', async () => {
    const { store, ingest } = await setup();
    expect(await ingest.ingest(items([chain[0]!, chain[1]!, chain[1]!, chain[2]!]), now)).toMatchObject({ ack: 3, nack: null, stored: 3 });
    const forged = variant(key, 4, chain[2]!.hash);
    const out = await ingest.ingest(items([chain[3]!, forged]), now);
    expect(out).toMatchObject({ ack: 4, equivocation: true, stored: 1, nack: { code: 'equivocation', seq: 4 } });
    expect(await store.getNode(key.id)).toMatchObject({ headSeq: 4, banned: true });
  });

  it('stops at the first bad record: the prefix is stored, the rest ignored', async () => {
    const { store, ingest } = await setup();
    const bad = checkItem({ env: { seq: 3 }, sig: 'x' });
    const out = await ingest.ingest([...items(chain.slice(0, 2)), bad, ...items(chain.slice(2))], now);
    expect(out).toMatchObject({ ack: 2, stored: 2, nack: { code: 'schema', seq: 3 } });
    expect((await store.getNode(key.id))?.headSeq).toBe(2);
  });

  it('acks nothing and moves nothing when the store cannot commit; the same frame succeeds after', async () => {
    const { store, ingest } = await setup();
    const commitFrames = store.commitFrames.bind(store);
    store.commitFrames = () => Promise.reject(new Error('SQLITE_FULL: database or disk is full'));
    const out = await ingest.ingest(items(chain.slice(0, 3)), now);
    expect(out).toMatchObject({ ack: null, stored: 0, nack: { code: 'store-unavailable', seq: 1 } });
    expect(out.nack?.message).toContain('disk is full');
    expect(ingest.expected).toBe(1);
    store.commitFrames = commitFrames;
    expect(await ingest.ingest(items(chain.slice(0, 3)), now)).toMatchObject({ ack: 3, nack: null });
  });

  it('records the largest (time - received) as the node\'s skew', async () => {
    const { store, ingest } = await setup();
    await ingest.ingest(items(chain.slice(0, 2)), chain[1]!.record.env.time + 250);
    expect((await store.getNode(key.id))?.skewMs).toBe(-250);
  });
});
