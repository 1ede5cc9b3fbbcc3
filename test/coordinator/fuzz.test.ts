/**
 * Coordinator fuzzing: more than 10,000 hostile frames against a real
 * coordinator process. Before auth every one of them ends the connection
 * with 4001; after auth each gets exactly one nack with the right code, in
 * order; oversize frames and floods are closed with their codes. The process
 * never crashes or logs an error, and the ledger's digest (every record,
 * every head, every ban) is the same before and after.
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalize } from '../../proofs/canonical.js';
import { buildEnvelope, recordLine, signEnvelope, type VerifiedRecord } from '../../proofs/envelope.js';
import type { KeyPair } from '../../proofs/keys.js';
import { attFrame, MAX_FRAME_BYTES, parseAgentMessage, signAuth, type NackCode } from '../../proofs/messages.js';
import { makeChain, testKey, uptimeBody } from '../helpers/keys.js';
import { malleateSignature, openConnection, SimAgent } from '../helpers/sim-agent.js';
import { tempDir } from '../helpers/tmp.js';
import { ledgerDigest, spawnCoordinator, type CoordinatorProcess } from './process.js';

const victim = testKey('fuzz-victim');
const hostile = testKey('fuzz-hostile');
const victimChain = makeChain(victim, 30);
const hostileChain = makeChain(hostile, 11);
const HEAD = 10;

let c: CoordinatorProcess;
let frames = 0;

beforeAll(async () => {
  c = await spawnCoordinator({
    dir: tempDir(),
    settings: { authTimeoutMs: 300, rateMessagesPerSec: 1_000_000, rateMessageBurst: 1_000_000, rateBytesPerSec: 1 << 30, rateByteBurst: 1 << 30, logLevel: 'warn' },
  });
  const v = await SimAgent.connect({ url: c.url, coordinatorId: c.key.id, key: victim });
  v.sendRecords(victimChain);
  await v.waitForAck(30);
  await v.close();
  const h = await SimAgent.connect({ url: c.url, coordinatorId: c.key.id, key: hostile });
  h.sendRecords(hostileChain.slice(0, HEAD));
  await h.waitForAck(HEAD);
  await h.close();
});
afterAll(async () => {
  expect(await c.stop()).toBe(0);
});


function signedAt(key: KeyPair, seq: number, prev: string, salt: number): VerifiedRecord {
  return signEnvelope(buildEnvelope({ kind: 'uptime', node: key.id, seq, prev, time: 1_700_000_000_000 + seq, body: uptimeBody(salt) }), key);
}

function session(key: KeyPair): Promise<SimAgent> {
  return SimAgent.connectRetry({ url: c.url, coordinatorId: c.key.id, key });
}

/** Sends frames in windows and checks that each got one nack whose code is allowed, in order. */
async function expectNacks(agent: SimAgent, cases: { frame: string | Buffer; codes: readonly NackCode[] }[]): Promise<void> {
  const window = 50;
  for (let start = 0; start < cases.length; start += window) {
    const batch = cases.slice(start, start + window);
    const before = agent.nacks.length;
    for (const { frame } of batch) agent.send(frame);
    frames += batch.length;
    while (agent.nacks.length < before + batch.length) await agent.waitFor((m) => m.t === 'nack' && agent.nacks.length >= before + batch.length, 20_000);
    batch.forEach((b, i) => {
      const got = agent.nacks[before + i]!;
      if (!b.codes.includes(got.code)) throw new Error(`frame ${start + i} (${String(b.frame).slice(0, 200)}): expected ${b.codes.join('|')}, got ${got.code}: ${got.message}`);
      expect(got.expected).toBe(HEAD + 1);
    });
  }
}

const nextRecord = signedAt(hostile, HEAD + 1, hostileChain[HEAD - 1]!.hash, 1);
const nextLine = JSON.parse(recordLine(nextRecord.record)) as Record<string, unknown>;

/** Every leaf path of a JSON value. */
function leaves(v: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return v.length === 0 ? [path] : v.flatMap((x, i) => leaves(x, [...path, i]));
  if (v !== null && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, k]));
  return [path];
}

function withLeaf(root: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let o = copy;
  for (const p of path.slice(0, -1)) o = o[p] as Record<string | number, unknown>;
  o[path[path.length - 1]!] = value;
  return copy;
}

describe('coordinator fuzzing', () => {
  let digestBefore: string;

  it('closes every hostile handshake with 4001 (bad JSON, wrong types, forged, replayed and S >= L auth, silence)', async () => {
    digestBefore = ledgerDigest(c.storeFile).digest;
    // A real auth, captured to be replayed on other connections (other nonces).
    const captured = await openConnection(c.url);
    const replay = { t: 'auth', node: hostile.id, sig: signAuth(captured.hello.nonce, c.key.id, hostile), agent: 'capanode/0.1.0', inventory: { gpus: [] } };
    captured.ws.close();
    const other = testKey('fuzz-other');
    const hostileHandshakes: (string | Buffer | null)[] = [
      null,
      Buffer.from([0, 1, 2, 3]),
      JSON.stringify(replay),
      JSON.stringify({ ...replay, sig: malleateSignature(replay.sig) }),
      JSON.stringify({ ...replay, sig: 'ab'.repeat(64) }),
      JSON.stringify({ ...replay, node: other.id }),
      JSON.stringify({ ...replay, node: c.key.id }),
      JSON.stringify({ ...replay, inventory: { gpus: 'many' } }),
      JSON.stringify({ t: 'att', items: [JSON.parse(recordLine(victimChain[0]!.record))] }),
      JSON.stringify({ t: 'commit', id: 'x', root: 'ab'.repeat(32), elapsedUs: 1, device: 'cpu' }),
      ...fc.sample(fc.string({ maxLength: 64 }), { numRuns: 80, seed: 1 }),
      ...fc.sample(fc.json({ maxDepth: 3 }), { numRuns: 80, seed: 2 }),
    ];
    const outcomes = await Promise.all(
      hostileHandshakes.map(async (frame) => {
        const conn = await openConnection(c.url);
        if (frame !== null) conn.ws.send(frame);
        frames += 1;
        return { frame, closed: await conn.closed };
      }),
    );
    for (const o of outcomes) expect(o.closed.code, String(o.frame).slice(0, 100)).toBe(4001);
    expect(outcomes.find((o) => o.frame === null)?.closed.reason).toBe('auth timeout');
  });

  it('answers more than 10,000 hostile frames after auth with the right nack, and stays up', async () => {
    const agent = await session(hostile);
    expect(agent.welcome.head?.seq).toBe(HEAD);
    const cases: { frame: string | Buffer; codes: readonly NackCode[] }[] = [];
    const add = (frame: string | Buffer, ...codes: NackCode[]) => cases.push({ frame, codes });

    // Bad JSON.
    for (const s of fc.sample(fc.string({ maxLength: 200 }), { numRuns: 1800, seed: 3 })) {
      let isJson = true;
      try {
        JSON.parse(s);
      } catch {
        isJson = false;
      }
      add(isJson ? `${s}}` : s, 'bad-message');
    }
    // Wrong types and shapes: any JSON value that is not a valid message.
    for (const v of fc.sample(fc.jsonValue({ maxDepth: 4 }), { numRuns: 1800, seed: 4 })) {
      if (!parseAgentMessage(v).ok) add(JSON.stringify(v), 'bad-message');
    }
    for (const t of ['att', 'commit', 'reveal', 'job', 'auth', 'welcome', 'ack', '__proto__', 'constructor']) {
      for (const extra of [{}, { items: 5 }, { items: [] }, { id: 7 }, { extra: true }]) add(JSON.stringify({ t, ...extra }), 'bad-message');
    }
    add(Buffer.from('{"t":"att"}'), 'bad-message');
    // Messages that only make sense in another state.
    for (let i = 0; i < 30; i++) {
      add(JSON.stringify({ t: 'commit', id: `c-${i}`, root: 'ab'.repeat(32), elapsedUs: 1 + i, device: 'cpu' }), 'unexpected-message');
      add(JSON.stringify({ t: 'reveal', id: `c-${i}`, items: [{ r: 0, digests: 'AAAAAAAAAAA=', path: [] }] }), 'unexpected-message');
      add(JSON.stringify({ t: 'job', job: `j-${i}`, state: 'done', reason: null, usageSeq: null }), 'unexpected-message');
      add(JSON.stringify({ t: 'auth', node: hostile.id, sig: 'ab'.repeat(64), agent: 'capanode/0.1.0', inventory: { gpus: [] } }), 'unexpected-message');
    }
    // Huge numbers and strings.
    const hugeNumbers = ['1e400', '-1e400', '9007199254740993', '123456789012345678901234567890', '0.5', '-0.0', '1e-400'];
    for (let i = 0; i < 700; i++) {
      const n = hugeNumbers[i % hugeNumbers.length]!;
      const field = ['seq', 'time', 'v'][i % 3]!;
      const text = recordLine(nextRecord.record).replace(`"${field}":${String((nextRecord.record.env as Record<string, unknown>)[field])}`, `"${field}":${n}`);
      // A value that parses to a valid integer (1e-400 is 0) changes what was signed instead.
      add(`{"items":[${text}],"t":"att"}`, 'non-canonical', 'schema', 'bad-signature');
    }
    for (const size of [1000, 100_000, 900_000]) {
      for (let i = 0; i < 7; i++) {
        const big = JSON.stringify(withLeaf(nextLine, ['env', 'body', 'gpus', 0, 'uuid'], `GPU-${'a'.repeat(size)}`));
        add(`{"items":[${big}],"t":"att"}`, 'schema');
      }
    }
    add(`{"items":[{"env":${'['.repeat(100_000)}${']'.repeat(100_000)},"sig":"00"}],"t":"att"}`, 'schema', 'bad-message');
    // Forged and non-canonical signatures on the next record; a valid signature by another key.
    for (let i = 0; i < 500; i++) {
      const sig = Buffer.from(fc.sample(fc.uint8Array({ minLength: 64, maxLength: 64 }), { numRuns: 1, seed: 100 + i })[0]!).toString('hex');
      add(attFrame([canonicalize({ env: nextRecord.record.env, sig })]), 'bad-signature');
      add(attFrame([canonicalize({ env: nextRecord.record.env, sig: malleateSignature(nextRecord.record.sig) })]), 'bad-signature');
    }
    const impostor = signEnvelope(nextRecord.record.env, { ...testKey('fuzz-impostor'), id: hostile.id });
    add(attFrame([recordLine(impostor.record)]), 'bad-signature');
    // Non-canonical values in a signed body (a float).
    for (let i = 0; i < 300; i++) add(`{"items":[${recordLine(nextRecord.record).replace('"load1Milli":250', `"load1Milli":${250 + i}.5`)}],"t":"att"}`, 'non-canonical');
    // Wrong seq (gaps, zero, negative) and wrong prev, all validly signed.
    for (let i = 0; i < 700; i++) add(attFrame([recordLine(signedAt(hostile, HEAD + 2 + i, hostileChain[HEAD - 1]!.hash, i).record)]), 'seq-gap');
    for (const seq of [0, -1]) add(attFrame([recordLine({ ...nextRecord.record, env: { ...nextRecord.record.env, seq } })]), 'schema');
    for (let i = 0; i < 400; i++) add(attFrame([recordLine(signedAt(hostile, HEAD + 1, Buffer.alloc(32, i % 256).toString('hex'), i).record)]), 'broken-chain');
    // Another node's valid records, replayed on this connection.
    for (let i = 0; i < 500; i++) add(attFrame([recordLine(victimChain[i % 30]!.record)]), 'wrong-node');
    // Single-leaf mutations of the valid next record: never accepted.
    const paths = leaves({ items: [nextLine] });
    const values = fc.sample(fc.jsonValue({ maxDepth: 2 }), { numRuns: 2600, seed: 5 });
    values.forEach((value, i) => {
      const path = paths[i % paths.length]!;
      const mutated = withLeaf({ items: [nextLine], t: 'att' }, path, value);
      if (JSON.stringify(mutated) === JSON.stringify({ items: [nextLine], t: 'att' })) return;
      add(JSON.stringify(mutated), 'bad-signature', 'schema', 'non-canonical', 'bad-message');
    });

    await expectNacks(agent, cases);
    expect(agent.messages.filter((m) => m.t === 'ack')).toEqual([]);
    expect(frames).toBeGreaterThanOrEqual(10_000);
    expect(ledgerDigest(c.storeFile).digest).toBe(digestBefore);
    // The session still works: the real next record is taken.
    agent.sendRecords([nextRecord]);
    await agent.waitForAck(HEAD + 1);
    await agent.close();
  }, 120_000);

  it('closes frames over 1 MiB (1009) and att frames over 256 records (4009); the node can reconnect', async () => {
    const a = await session(hostile);
    a.send('x'.repeat(MAX_FRAME_BYTES + 1));
    expect((await a.closed).code).toBe(1009);
    const b = await session(hostile);
    b.send(attFrame(Array.from({ length: 257 }, () => recordLine(nextRecord.record))));
    expect((await b.closed).code).toBe(4009);
    const d = await session(hostile);
    expect(d.welcome.head?.seq).toBe(HEAD + 1);
    await d.close();
  });

  it('never crashed, never failed a handler, and the victim\'s records are untouched', async () => {
    expect(c.child.exitCode).toBeNull();
    expect(c.output()).not.toMatch(/"level":50/);
    const v = await session(victim);
    expect(v.welcome.head).toEqual({ seq: 30, hash: victimChain[29]!.hash });
    await v.close();
  });
});

describe('rate limits', () => {
  it('disconnects a node that floods with 4008', async () => {
    const limited = await spawnCoordinator({ dir: tempDir(), settings: { rateMessagesPerSec: 5, rateMessageBurst: 20, logLevel: 'warn' } });
    try {
      const a = await SimAgent.connect({ url: limited.url, coordinatorId: limited.key.id, key: testKey('fuzz-flood') });
      for (let i = 0; i < 100; i++) a.send('{}');
      expect((await a.closed).code).toBe(4008);
    } finally {
      await limited.stop();
    }
  });

  it('a peer cannot hold a connection open without answering hello', async () => {
    const conn = await openConnection(c.url);
    const ws: WebSocket = conn.ws;
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(await conn.closed).toMatchObject({ code: 4001, reason: 'auth timeout' });
  });
});
