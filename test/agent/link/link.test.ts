import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.js';
import { Backoff, Link, type LinkOptions, type LinkStatus, type PotSolver } from '../../../agent/link/index.js';
import { generateKeyPair } from '../../../proofs/keys.js';
import { signCoordinatorMessage, type Verdict } from '../../../proofs/messages.js';
import { verifyReveal, chooseChecks, parseRevealItems } from '../../../proofs/pot.js';
import { randomBytes } from 'node:crypto';
import { makeChain, testKey } from '../../helpers/keys.js';
import { MemoryJournal } from '../../helpers/memory-journal.js';
import { beacon, handshake, hello, startFakeCoordinator, type FakeCoordinator } from '../../helpers/fake-coordinator.js';
import { tsSolver } from '../../helpers/ts-solver.js';

const node = testKey('link-node');
const coord = testKey('link-coordinator');
const logger = createLogger({ level: 'silent' });
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function until(cond: () => boolean, timeoutMs = 8_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      if (cond()) resolve();
      else if (Date.now() - t0 > timeoutMs) reject(new Error('condition not met in time'));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

function startLink(server: FakeCoordinator, journal: MemoryJournal, extra: Partial<LinkOptions> = {}): { link: Link; states: LinkStatus[] } {
  const states: LinkStatus[] = [];
  const link = new Link({
    url: server.url,
    coordinatorKey: coord.id,
    key: node,
    journal,
    inventory: () => ({ gpus: [] }),
    agentVersion: '0.1.0',
    solver: tsSolver(),
    logger,
    backoff: new Backoff(20, 80),
    handshakeTimeoutMs: 2_000,
    events: { onState: (s) => states.push(s) },
    ...extra,
  });
  link.start();
  cleanup.push(() => link.stop());
  return { link, states };
}

describe('link: streaming', () => {
  it('authenticates, streams the backlog in windowed frames and moves the watermark on cumulative acks', async () => {
    const chain = makeChain(node, 40);
    const journal = new MemoryJournal(node.id, chain);
    let frames = 0;
    const server = await startFakeCoordinator(async (c) => {
      const auth = await handshake(c, coord, null);
      expect(auth).toMatchObject({ t: 'auth', node: node.id, agent: 'capanode/0.1.0' });
      for (;;) {
        const att = await c.next('att');
        frames++;
        const items = att['items'] as { env: { seq: number } }[];
        c.send({ t: 'ack', seq: items[items.length - 1]!.env.seq });
      }
    });
    cleanup.push(() => server.close());
    const { link } = startLink(server, journal, { frameRecords: 16, window: 2 });
    await until(() => journal.watermark() === 40);
    expect(frames).toBe(3);
    expect(link.snapshot()).toMatchObject({ state: 'connected', lastAckSeq: 40 });
    expect(link.drained()).toBe(true);
  });

  it('resumes from the coordinator head after a reconnect, and resends from the expected seq on a seq-gap nack', async () => {
    const chain = makeChain(node, 10);
    const journal = new MemoryJournal(node.id, chain);
    const server = await startFakeCoordinator(async (c) => {
      if (c.index === 0) {
        await handshake(c, coord, { seq: 3, hash: chain[2]!.hash });
        const att = await c.next('att');
        expect((att['items'] as { env: { seq: number } }[])[0]!.env.seq).toBe(4);
        c.send({ t: 'nack', seq: 4, code: 'seq-gap', message: 'expected 6', expected: 6 });
        const again = await c.next('att');
        expect((again['items'] as { env: { seq: number } }[])[0]!.env.seq).toBe(6);
        c.ws.terminate();
        return;
      }
      await handshake(c, coord, { seq: 7, hash: chain[6]!.hash });
      const att = await c.next('att');
      expect((att['items'] as { env: { seq: number } }[])[0]!.env.seq).toBe(8);
      c.send({ t: 'ack', seq: 10 });
    });
    cleanup.push(() => server.close());
    startLink(server, journal);
    await until(() => journal.watermark() === 10);
    expect(journal.acks).toEqual([3, 7, 10]);
  });

  it('marks records the coordinator rejects and tells the operator', async () => {
    const journal = new MemoryJournal(node.id, makeChain(node, 3));
    const server = await startFakeCoordinator(async (c) => {
      await handshake(c, coord, null);
      await c.next('att');
      c.send({ t: 'ack', seq: 1 });
      c.send({ t: 'nack', seq: 2, code: 'schema', message: 'env.body: bad', expected: 2 });
    });
    cleanup.push(() => server.close());
    const { link } = startLink(server, journal);
    await until(() => journal.rejected.length === 1);
    expect(journal.rejected[0]).toMatchObject({ seq: 2, code: 'schema' });
    expect(link.snapshot().lastError).toContain('record 2 rejected: schema');
  });
});

describe('link: the journal is the truth', () => {
  it('stops on a fork (different hash at the coordinator head) and never acks past it', async () => {
    const journal = new MemoryJournal(node.id, makeChain(node, 5));
    const forks: unknown[] = [];
    const server = await startFakeCoordinator((c) => handshake(c, coord, { seq: 4, hash: 'ee'.repeat(32) }));
    cleanup.push(() => server.close());
    startLink(server, journal, { events: { onFork: (f) => forks.push(f) } });
    await until(() => forks.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(server.connections).toHaveLength(1);
    expect(journal.acks).toEqual([]);
  });

  it('refuses to start blank over history the coordinator holds', async () => {
    const journal = new MemoryJournal(node.id, []);
    const server = await startFakeCoordinator((c) => handshake(c, coord, { seq: 120, hash: 'aa'.repeat(32) }));
    cleanup.push(() => server.close());
    const { link } = startLink(server, journal);
    await until(() => link.snapshot().state === 'refused');
    expect(link.snapshot().lastError).toContain('--adopt-remote-head');
    await new Promise((r) => setTimeout(r, 200));
    expect(server.connections).toHaveLength(1);
  });

  it('with --adopt-remote-head, an empty journal adopts the coordinator\'s head and streams on', async () => {
    const journal = new MemoryJournal(node.id, []);
    const server = await startFakeCoordinator((c) => handshake(c, coord, { seq: 120, hash: 'aa'.repeat(32) }));
    cleanup.push(() => server.close());
    const { link } = startLink(server, journal, { adoptRemoteHead: true });
    await until(() => link.snapshot().state === 'connected');
    expect(journal.adopted).toEqual({ seq: 120, hash: 'aa'.repeat(32) });
    expect(journal.watermark()).toBe(120);
  });

  it('refuses a coordinator ack beyond the journal head', async () => {
    const journal = new MemoryJournal(node.id, makeChain(node, 2));
    const server = await startFakeCoordinator(async (c) => {
      await handshake(c, coord, null);
      await c.next('att');
      c.send({ t: 'ack', seq: 99 });
    });
    cleanup.push(() => server.close());
    startLink(server, journal);
    await until(() => server.connections.length >= 2);
    expect(journal.watermark()).toBe(0);
  });
});

describe('link: hostile coordinators', () => {
  const cases: [string, (c: Parameters<Parameters<typeof startFakeCoordinator>[0]>[0]) => Promise<void> | void, RegExp][] = [
    ['a coordinator with another key', (c) => c.send(hello(generateKeyPair())), /not signed by the pinned coordinator key|pinned key/],
    ['a hello claiming the pinned key but signed by another', (c) => c.send({ ...hello(generateKeyPair()), coordinator: coord.id }), /not signed by the pinned/],
    ['an unsigned hello', (c) => {
      const { sig: _sig, ...rest } = hello(coord) as { sig: string };
      c.send(rest);
    }, /malformed|not signed/],
    ['a badly signed beacon', async (c) => {
      await handshake(c, coord, null);
      c.send({ ...beacon(coord), sig: 'ab'.repeat(64) });
    }, /beacon message was not signed/],
    ['garbage', (c) => c.send('{{{{'), /malformed message/],
    ['a huge string', (c) => c.send({ t: 'hello', proto: 1, coordinator: 'x'.repeat(100_000) }), /malformed message/],
    ['a challenge with absurd n', async (c) => {
      await handshake(c, coord, null);
      c.send(signCoordinatorMessage({ t: 'challenge' as const, id: 'c1', seed: 'aa'.repeat(32), n: 1_000_000, reps: 1, dtype: 'f16' as const, deadlineMs: 1000 }, coord));
    }, /malformed message.*n/],
    ['an unsigned challenge', async (c) => {
      await handshake(c, coord, null);
      c.send({ t: 'challenge', id: 'c1', seed: 'aa'.repeat(32), n: 64, reps: 1, dtype: 'f16', deadlineMs: 1000, sig: '00'.repeat(64) });
    }, /challenge message was not signed/],
    ['a wrong protocol version', (c) => c.send(hello(coord, { proto: 7 })), /protocol 7/],
    ['a message before hello', (c) => c.send({ t: 'ack', seq: 1 }), /expected hello/],
  ];

  it.each(cases)('%s: the agent drops it, keeps its journal, and retries with backoff', async (_what, script, error) => {
    const chain = makeChain(node, 3);
    const journal = new MemoryJournal(node.id, chain);
    const server = await startFakeCoordinator(script);
    cleanup.push(() => server.close());
    const { link, states } = startLink(server, journal);
    await until(() => server.connections.length >= 3);
    expect(states.some((s) => s.state === 'backoff')).toBe(true);
    expect(link.snapshot().lastError ?? '').toMatch(error);
    expect(journal.acks).toEqual([]);
    expect(journal.records).toHaveLength(3);
  });
});

describe('link: Proof of Throughput', () => {
  it('commits, reveals the opened rows, and reports the verdict', async () => {
    const journal = new MemoryJournal(node.id, []);
    const verdicts: Verdict[] = [];
    const seed = randomBytes(32).toString('hex');
    let result: unknown = null;
    const server = await startFakeCoordinator(async (c) => {
      await handshake(c, coord, null);
      c.send(signCoordinatorMessage({ t: 'challenge' as const, id: 'pot-1', seed, n: 64, reps: 3, dtype: 'f16' as const, deadlineMs: 10_000 }, coord));
      const commit = await c.next('commit');
      const checks = chooseChecks(3, 64, 4, (n) => randomBytes(n));
      c.send({ t: 'open', id: 'pot-1', checks });
      const reveal = await c.next('reveal');
      const items = parseRevealItems(reveal['items'], { n: 64, reps: 3 });
      if (!items.ok) throw new Error('bad reveal');
      result = verifyReveal({ seed: Buffer.from(seed, 'hex'), n: 64, reps: 3, root: Buffer.from(commit['root'] as string, 'hex'), checks, reveal: items.value });
      c.send(signCoordinatorMessage({ t: 'verdict' as const, id: 'pot-1', ok: true, gflops: 1, reason: null }, coord));
    });
    cleanup.push(() => server.close());
    startLink(server, journal, { events: { onVerdict: (v) => verdicts.push(v) } });
    await until(() => verdicts.length === 1);
    expect(result).toEqual({ ok: true });
    expect(verdicts[0]).toMatchObject({ id: 'pot-1', ok: true });
  });
  it('after a missed verdict for a challenge still being computed, abandons it and answers the next challenge', async () => {
    const journal = new MemoryJournal(node.id, []);
    const verdicts: { id: string; answered: boolean }[] = [];
    const signals: AbortSignal[] = [];
    let releaseFirst: (() => void) | null = null;
    const reference = tsSolver();
    const solver: PotSolver = {
      solve(challenge, signal) {
        signals.push(signal);
        if (signals.length > 1) return reference.solve(challenge, signal);
        // The first challenge outlives its deadline: it is still computing when the verdict comes.
        return new Promise<void>((resolve) => (releaseFirst = resolve)).then(() => reference.solve(challenge, signal));
      },
    };
    const challenge = (id: string) => signCoordinatorMessage({ t: 'challenge' as const, id, seed: randomBytes(32).toString('hex'), n: 64, reps: 2, dtype: 'f16' as const, deadlineMs: 10_000 }, coord);
    const commits: unknown[] = [];
    const server = await startFakeCoordinator(async (c) => {
      await handshake(c, coord, null);
      c.send(challenge('pot-1'));
      await until(() => signals.length === 1);
      c.send(signCoordinatorMessage({ t: 'verdict' as const, id: 'pot-1', ok: false, gflops: 0, reason: 'deadline: no commit within 10000 ms' }, coord));
      c.send(challenge('pot-2'));
      const commit = await c.next('commit', 3_000);
      commits.push(commit['id']);
      // The abandoned computation ends after the next challenge was answered: its commit must not follow.
      releaseFirst?.();
      c.send({ t: 'open', id: 'pot-2', checks: [[0, 0]] });
      await c.next('reveal');
      c.send(signCoordinatorMessage({ t: 'verdict' as const, id: 'pot-2', ok: true, gflops: 1, reason: null }, coord));
    });
    cleanup.push(() => server.close());
    startLink(server, journal, { solver, events: { onVerdict: (v, _c, solution) => verdicts.push({ id: v.id, answered: solution !== null }) } });
    await until(() => verdicts.length === 2);
    expect(commits).toEqual(['pot-2']);
    expect(verdicts).toEqual([{ id: 'pot-1', answered: false }, { id: 'pot-2', answered: true }]);
    expect(signals[0]?.aborted).toBe(true);
    expect(server.connections[0]?.received.filter((m) => m['t'] === 'commit').map((m) => m['id'])).toEqual(['pot-2']);
  });
});
