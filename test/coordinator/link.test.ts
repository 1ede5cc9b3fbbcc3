import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEnvelope, signEnvelope, type VerifiedRecord } from '../../proofs/envelope.js';
import type { KeyPair } from '../../proofs/keys.js';
import { verifyCoordinatorMessage, type Nack } from '../../proofs/messages.js';
import { runCli, COORDINATOR_CLI } from '../helpers/cli.js';
import { makeChain, testKey, uptimeBody } from '../helpers/keys.js';
import { SimAgent, type Closed } from '../helpers/sim-agent.js';
import { tempDir } from '../helpers/tmp.js';
import { ledgerDigest, queryStore, spawnCoordinator, type CoordinatorProcess } from './process.js';

let c: CoordinatorProcess;
let dir: string;

beforeAll(async () => {
  dir = tempDir();
  c = await spawnCoordinator({ dir });
});
afterAll(async () => {
  expect(await c.stop()).toBe(0);
});

function connect(key: KeyPair): Promise<SimAgent> {
  return SimAgent.connect({ url: c.url, coordinatorId: c.key.id, key });
}

/** A record for seq that differs from makeChain's (another body), chained on prev. */
function variant(key: KeyPair, seq: number, prev: string, time = 1_700_000_000_000 + seq * 30_000): VerifiedRecord {
  return signEnvelope(buildEnvelope({ kind: 'uptime', node: key.id, seq, prev, time, body: uptimeBody(seq + 1000) }), key);
}

function storedSeqs(node: string): number[] {
  return queryStore<{ seq: number }>(c.storeFile, 'SELECT seq FROM records WHERE node = ? ORDER BY seq', node).map((r) => r.seq);
}

async function refused(key: KeyPair): Promise<Closed> {
  try {
    await connect(key);
  } catch (e) {
    return (e as { closed: Closed }).closed;
  }
  throw new Error('the connection was accepted');
}

describe('handshake', () => {
  it('sends a signed hello, then a welcome with a signed beacon and a null head for a new node', async () => {
    const a = await connect(testKey('link-new'));
    expect(a.welcome.head).toBeNull();
    expect(verifyCoordinatorMessage(a.welcome.beacon, c.key.id)).toBe(true);
    expect(Math.abs(a.welcome.time - Date.now())).toBeLessThan(60_000);
    await a.close();
  });
});

describe('ingest', () => {
  it('acks cumulatively only what is stored, and reports the head truthfully on reconnect', async () => {
    const key = testKey('link-stream');
    const chain = makeChain(key, 300);
    const a = await connect(key);
    a.sendRecords(chain.slice(0, 280));
    await a.waitForAck(280);
    expect(storedSeqs(key.id)).toEqual(chain.slice(0, 280).map((r) => r.record.env.seq));
    await a.close();
    const b = await connect(key);
    expect(b.welcome.head).toEqual({ seq: 280, hash: chain[279]!.hash });
    b.sendRecords(chain.slice(280));
    await b.waitForAck(300);
    const stored = queryStore<{ canonical: string; sig: string; hash: string }>(c.storeFile, 'SELECT canonical, sig, hash FROM records WHERE node = ? ORDER BY seq', key.id);
    expect(stored).toEqual(chain.map((r) => ({ canonical: r.canonical, sig: r.record.sig, hash: r.hash })));
    await b.close();
  });

  it('acks identical duplicates again without storing anything twice', async () => {
    const key = testKey('link-dup');
    const chain = makeChain(key, 20);
    const a = await connect(key);
    a.sendRecords(chain);
    await a.waitForAck(20);
    const before = ledgerDigest(c.storeFile);
    a.sendRecords(chain.slice(5, 12));
    await a.waitFor((m) => m.t === 'ack' && a.messages.filter((x) => x.t === 'ack').length >= 2);
    expect(a.messages.filter((m) => m.t === 'ack').map((m) => (m as { seq: number }).seq)).toEqual([20, 20]);
    expect(a.nacks).toEqual([]);
    // Overlap: old records then new ones in one frame.
    const more = makeChain(key, 25).slice(15);
    a.sendRecords(more);
    await a.waitForAck(25);
    expect(storedSeqs(key.id)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(ledgerDigest(c.storeFile).digest).not.toBe(before.digest);
    await a.close();
  });

  it('nacks with a code, the seq and where to resume; takes the valid prefix of a frame only', async () => {
    const key = testKey('link-nacks');
    const chain = makeChain(key, 10);
    const other = makeChain(testKey('link-nacks-other'), 1);
    const a = await connect(key);
    const expectNack = async (records: VerifiedRecord[], want: Partial<Nack>): Promise<void> => {
      const next = a.waitForNack();
      a.sendRecords(records);
      expect(await next).toMatchObject(want);
    };
    await expectNack([chain[1]!], { code: 'seq-gap', seq: 2, expected: 1 });
    await expectNack([variant(key, 1, 'ab'.repeat(32))], { code: 'broken-chain', seq: 1, expected: 1 });
    await expectNack([other[0]!], { code: 'wrong-node', seq: 1, expected: 1 });
    // A valid prefix is stored and acked; the first bad record is nacked; what follows it is ignored.
    await expectNack([chain[0]!, chain[1]!, chain[3]!, chain[4]!], { code: 'seq-gap', seq: 4, expected: 3 });
    expect(a.acked).toBe(2);
    expect(storedSeqs(key.id)).toEqual([1, 2]);
    const future = variant(key, 3, chain[1]!.hash, Date.now() + 10 * 60_000);
    await expectNack([future], { code: 'clock-skew', seq: 3, expected: 3 });
    const skew = queryStore<{ skew_ms: number }>(c.storeFile, 'SELECT skew_ms FROM nodes WHERE id = ?', key.id)[0]!.skew_ms;
    expect(skew).toBeGreaterThan(9 * 60_000);
    a.sendRecords(chain.slice(2));
    await a.waitForAck(10);
    expect(storedSeqs(key.id)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    await a.close();
  });

  it('keeps both records of an equivocation as evidence, bans the node (4010), and refuses it after (4011)', async () => {
    const key = testKey('link-equivocate');
    const chain = makeChain(key, 5);
    const a = await connect(key);
    a.sendRecords(chain);
    await a.waitForAck(5);
    const before = ledgerDigest(c.storeFile).records;
    const forged = variant(key, 3, chain[1]!.hash);
    a.sendRecords([forged]);
    expect(await a.waitForNack()).toMatchObject({ code: 'equivocation', seq: 3 });
    expect(await a.closed).toMatchObject({ code: 4010 });
    const evidence = queryStore<Record<string, unknown>>(c.storeFile, 'SELECT * FROM equivocations WHERE node = ?', key.id);
    expect(evidence).toEqual([
      expect.objectContaining({ seq: 3, first_hash: chain[2]!.hash, first_canonical: chain[2]!.canonical, first_sig: chain[2]!.record.sig, second_hash: forged.hash, second_canonical: forged.canonical, second_sig: forged.record.sig }),
    ]);
    expect(ledgerDigest(c.storeFile).records).toBe(before);
    expect(await refused(key)).toMatchObject({ code: 4011 });
  });

  it('refuses a second session for a connected node with 4003; the first keeps working', async () => {
    const key = testKey('link-twice');
    const chain = makeChain(key, 3);
    const first = await connect(key);
    expect(await refused(key)).toMatchObject({ code: 4003 });
    first.sendRecords(chain);
    await first.waitForAck(3);
    await first.close();
  });
});

describe('crash and restart', () => {
  it('loses nothing it acked across SIGKILL; the agent resumes from the head the coordinator reports', async () => {
    const crashDir = tempDir();
    let proc = await spawnCoordinator({ dir: crashDir });
    const key = testKey('link-crash');
    const chain = makeChain(key, 2000);
    let a = await SimAgent.connect({ url: proc.url, coordinatorId: proc.key.id, key });
    a.sendRecords(chain);
    await a.waitForAck(300);
    await proc.kill();
    const acked = a.acked;
    await a.closed;
    proc = await spawnCoordinator({ dir: crashDir });
    a = await SimAgent.connect({ url: proc.url, coordinatorId: proc.key.id, key });
    const head = a.welcome.head!;
    expect(head.seq).toBeGreaterThanOrEqual(acked);
    expect(head.hash).toBe(chain[head.seq - 1]!.hash);
    a.sendRecords(chain.slice(head.seq));
    await a.waitForAck(2000);
    await a.close();
    expect(await proc.stop()).toBe(0);
    const seqs = queryStore<{ seq: number }>(proc.storeFile, 'SELECT seq FROM records WHERE node = ? ORDER BY seq', key.id).map((r) => r.seq);
    expect(seqs).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
  });
});

describe('capanode-coordinator nodes / init', () => {
  it('lists nodes with head, connection, skew, gflops, strikes and ban', async () => {
    const key = testKey('link-nodes');
    const a = await connect(key);
    a.sendRecords(makeChain(key, 4));
    await a.waitForAck(4);
    const r = await runCli(['nodes', '--store', `sqlite:${c.storeFile}`, '--json'], { cli: COORDINATOR_CLI });
    expect(r.code).toBe(0);
    const listed = (JSON.parse(r.stdout) as { nodes: Record<string, unknown>[] }).nodes.find((n) => n['id'] === key.id);
    expect(listed).toMatchObject({ id: key.id, connected: true, headSeq: 4, strikes: 0, banned: false, gflops: null, agent: 'capanode/0.0.0-sim' });
    expect(typeof listed?.['skewMs']).toBe('number');
    const text = await runCli(['nodes', '--store', `sqlite:${c.storeFile}`], { cli: COORDINATOR_CLI });
    expect(text.stdout).toMatch(/^NODE\s+CONNECTED\s+HEAD\s+LAST SEEN\s+SKEW MS\s+GFLOPS\s+STRIKES\s+BANNED/);
    expect(text.stdout).toContain(key.id);
    await a.close();
  });

  it('init creates a 0600 key, prints the public key, and refuses to overwrite it', async () => {
    const keyFile = `${tempDir()}/coordinator.key`;
    const r = await runCli(['init', '--key', keyFile, '--json'], { cli: COORDINATOR_CLI });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { coordinator: string; keyFile: string };
    expect(out.coordinator).toMatch(/^[0-9a-f]{64}$/);
    const { statSync } = await import('node:fs');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const again = await runCli(['init', '--key', keyFile], { cli: COORDINATOR_CLI });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(out.coordinator);
    const text = await runCli(['init', '--key', keyFile, '--force'], { cli: COORDINATOR_CLI });
    expect(text.stdout).toMatch(/capanode init --coordinator ws:\/\/HOST:PORT --coordinator-key [0-9a-f]{64}/);
  });

  it('serve refuses a bad setting with exit 1, naming the flag', async () => {
    const r = await runCli(['serve', '--key', `${dir}/none.key`, '--pot-n', '100'], { cli: COORDINATOR_CLI });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--pot-n');
    expect(r.stderr).toContain('multiple of 64');
  });
});
