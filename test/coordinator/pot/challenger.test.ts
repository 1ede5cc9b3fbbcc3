/**
 * The challenge lifecycle driven by a fake clock and a fixed random stream:
 * rounds that challenge every connected node at once with one window, the
 * credit of work over that window, deadlines, the order commit -> open ->
 * reveal -> verdict, and an operator's solo challenge credited over the
 * coordinator's own clock less the median RTT.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createInlineAnalyser, type Analyser } from '../../../coordinator/analyser.js';
import type { RandomBytes } from '../../../coordinator/clock.js';
import { Challenger, challengeShape, roundShape, roundWindow, verdictGflops, type PotSettings } from '../../../coordinator/pot/challenger.js';
import { ChallengeRounds, type ChallengeSchedule } from '../../../coordinator/pot/rounds.js';
import { roundKey, RoundSchedule, type Round } from '../../../coordinator/pot/schedule.js';
import { measuredGflops, nextBasis, potFlops, windowGflops } from '../../../coordinator/pot/window.js';
import { RttTracker } from '../../../coordinator/rtt.js';
import { openSqliteStore } from '../../../coordinator/store/sqlite.js';
import type { Store } from '../../../coordinator/store/types.js';
import { createLogger } from '../../../common/log.js';
import { verifyCoordinatorMessage, type Challenge, type Verdict } from '../../../proofs/messages.js';
import { buildReveal, computePot, encodeRevealItems } from '../../../proofs/pot.js';
import { testKey } from '../../helpers/keys.js';
import { FakeClock } from '../../helpers/ledger-fixture.js';
import { tempDir } from '../../helpers/tmp.js';
import { answer, fakeAnalyser } from './fake-pot.js';

function randomStream(label: string): RandomBytes {
  let counter = 0;
  return (size) => {
    const out = new Uint8Array(size);
    for (let at = 0; at < size; at += 32) out.set(createHash('sha256').update(`${label}:${counter++}`).digest().subarray(0, Math.min(32, size - at)), at);
    return out;
  };
}

const coordinator = testKey('challenger-coordinator');
const settings: PotSettings = { enabled: true, minIntervalMs: 1000, maxIntervalMs: 5000, n: 4096, cpuN: 64, reps: 4, targetSeconds: 5, gpuGflops: 100_000, cpuGflops: 20, k: 8, deadlineMs: 10_000, marginPercent: 10 };
/** Rounds: a one-second window, reps sized by the node's basis (CPU nodes, n = 64). */
const roundSettings: Partial<PotSettings> = { reps: null, targetSeconds: 1, cpuGflops: 16, minIntervalMs: 60_000, maxIntervalMs: 180_000 };
/** A CPU node's last verdict in the round tests: 2 GFLOP/s (a few thousand reps of n = 64 per round). */
const LAST = 2;
const noRounds: ChallengeSchedule = { join: () => undefined, leave: () => undefined };

interface SetupOptions {
  overrides?: Partial<PotSettings>;
  clock?: FakeClock;
  schedule?: ChallengeSchedule;
  store?: Store;
  lastGflops?: number | null;
  analyser?: Analyser;
}

async function setup(label = 'a', o: SetupOptions = {}) {
  const clock = o.clock ?? new FakeClock();
  const store = o.store ?? openSqliteStore(join(tempDir(), 'ledger.db'));
  const node = testKey(`challenger-${label}`);
  await store.nodeConnected(node.id, { agent: 'capanode/0', inventory: { gpus: [] }, at: clock.now() });
  const sent: (Challenge | Verdict | { t: 'open'; id: string; checks: [number, number][] })[] = [];
  const sentAt: number[] = [];
  const refused: string[] = [];
  const rtt = new RttTracker();
  for (const ms of [0.2, 0.1, 0.1]) rtt.add(ms);
  const challenger = new Challenger({
    node: node.id,
    schedule: o.schedule ?? noRounds,
    inventory: { gpus: [] },
    lastGflops: o.lastGflops ?? null,
    key: coordinator,
    store,
    clock,
    random: randomStream(label),
    analyser: o.analyser ?? createInlineAnalyser(createLogger({ level: 'silent' })),
    rtt,
    settings: { ...settings, ...o.overrides },
    log: createLogger({ level: 'silent' }),
    send: (m) => {
      sent.push(m);
      sentAt.push(clock.mono);
    },
    refuse: (m) => refused.push(m),
  });
  return { clock, store, node, sent, sentAt, refused, challenger };
}

const challenges = (sent: { t: string }[]) => sent.filter((m): m is Challenge => m.t === 'challenge');
const verdicts = (sent: { t: string }[]) => sent.filter((m): m is Verdict => m.t === 'verdict');

/** Several nodes in one process's rounds, on one clock and one store. */
async function roundSetup(labels: string[], lastGflops: number | null = 2, overrides: Partial<PotSettings> = {}) {
  const clock = new FakeClock();
  const store = openSqliteStore(join(tempDir(), 'ledger.db'));
  const schedule = new RoundSchedule(roundKey(coordinator.secretKey), { minIntervalMs: 60_000, maxIntervalMs: 180_000 });
  const rounds = new ChallengeRounds({ schedule, clock, store, log: createLogger({ level: 'silent' }) });
  const nodes = [];
  for (const label of labels) nodes.push(await setup(label, { clock, store, schedule: rounds, lastGflops, overrides: { ...roundSettings, ...overrides }, analyser: fakeAnalyser() }));
  /** Advances to the next round and lets it send; returns its start (monotonic). */
  const nextRound = async (): Promise<number> => {
    const due = rounds.pending as Round;
    await clock.advanceTo(due.at);
    await rounds.settled();
    return clock.mono;
  };
  return { clock, store, rounds, nodes, nextRound };
}

describe('challenge rounds', () => {
  it('a round challenges every connected node at one instant with one window; seeds differ per node', async () => {
    const { nodes, nextRound } = await roundSetup(['r1', 'r2', 'r3']);
    for (const n of nodes) n.challenger.start();
    const start = await nextRound();
    const sent = nodes.map((n) => challenges(n.sent));
    expect(sent.map((c) => c.length)).toEqual([1, 1, 1]);
    expect(nodes.map((n) => n.sentAt[0])).toEqual([start, start, start]);
    for (const [c] of sent) {
      expect(c).toMatchObject({ deadlineMs: settings.deadlineMs, n: 64 });
      expect(verifyCoordinatorMessage(c!, coordinator.id)).toBe(true);
    }
    expect(new Set(sent.map(([c]) => c!.seed)).size).toBe(3);
    expect(new Set(sent.map(([c]) => c!.id)).size).toBe(3);
    // The basis (its last verdict) fills 90% of the window, less the round trip.
    expect(sent[0]![0]!.reps).toBe(roundShape({ ...settings, ...roundSettings }, false, { gflops: LAST, measured: true, overran: false }, 100).reps);
  });

  it('credits a commit inside the window its work over the window, however early, and less after its budget; one after the window passes with 0 and sizes the next round', async () => {
    const { nodes, nextRound, store } = await roundSetup(['early', 'edge', 'late']);
    for (const n of nodes) n.challenger.start();
    const start = await nextRound();
    const [early, edge, late] = nodes as [Awaited<ReturnType<typeof setup>>, Awaited<ReturnType<typeof setup>>, Awaited<ReturnType<typeof setup>>];
    const c = challenges(early.sent)[0]!;
    const window = roundWindow({ ...settings, ...roundSettings });
    await answer(early.challenger, c, start + 300, 290_000, early.sent);
    await answer(edge.challenger, challenges(edge.sent)[0]!, start + 1000, 990_000, edge.sent);
    await answer(late.challenger, challenges(late.sent)[0]!, start + 1000.5, 1_900_000, late.sent);
    expect(verdicts(early.sent)[0]).toMatchObject({ ok: true, reason: null, gflops: windowGflops(64, c.reps, 290_000, window) });
    expect(verdicts(early.sent)[0]!.gflops).toBe(Math.floor(potFlops(64, c.reps) / 1e9));
    expect(verdicts(early.sent)[0]!.gflops).toBeGreaterThan(0);
    // Inside the window but 11% past the 90% it was sized for: credited what its next basis, cut by (0.9/1)^10, asks.
    const shown = measuredGflops(64, c.reps, 990_000, 999_900);
    const next = nextBasis({ gflops: LAST, measured: true, overran: false }, { gflops: shown, coordinatorUs: 999_900, rttUs: 100 }, window);
    expect(verdicts(edge.sent)[0]).toMatchObject({ ok: true, reason: null, gflops: Math.floor((Math.min(LAST, next.gflops) * 899_900) / 1_000_000) });
    expect(verdicts(edge.sent)[0]!.gflops).toBeLessThan(verdicts(early.sent)[0]!.gflops);
    // Checked like any other (a wrong late commit fails), but no work inside the window: no strike, nothing credited.
    expect(late.sent.some((m) => m.t === 'open')).toBe(true);
    expect(verdicts(late.sent)[0]).toMatchObject({ ok: true, gflops: 0, reason: 'late: commit 1001 ms after the challenge, after the round\'s 1000 ms window: no work inside it' });
    expect((await store.getNode(late.node.id))?.strikes).toBe(0);
    expect((await store.getNode(late.node.id))?.gflops).toBe(0);
    // Next round: the late node is asked what it showed (work over 1.9 s), the early one (which showed three times its basis) 5% more.
    await nextRound();
    const lateShown = potFlops(64, c.reps) / 1_900_000 / 1000;
    expect(challenges(late.sent)[1]!.reps).toBe(roundShape({ ...settings, ...roundSettings }, false, { gflops: lateShown, measured: true, overran: false }, 100).reps);
    expect(challenges(early.sent)[1]!.reps).toBe(roundShape({ ...settings, ...roundSettings }, false, { gflops: LAST * 1.05, measured: true, overran: false }, 100).reps);
  });

  it('two identities answering with one GPU are credited at most its throughput together, in any order', async () => {
    const gpu = LAST; // GFLOP/s: what each identity's basis says, so together they ask twice what fits.
    for (const order of [[0, 1], [1, 0]]) {
      const { nodes, nextRound } = await roundSetup([`share-${order.join('')}-a`, `share-${order.join('')}-b`], gpu);
      for (const n of nodes) n.challenger.start();
      for (let round = 0; round < 3; round++) {
        const start = await nextRound();
        let done = 0;
        for (const i of order) {
          const n = nodes[i]!;
          const c = challenges(n.sent).at(-1)!;
          const own = potFlops(64, c.reps) / (gpu * 1e6);
          done += own;
          await answer(n.challenger, c, start + done + 0.15, Math.round(own * 1000), n.sent);
        }
        const credited = nodes.map((n) => verdicts(n.sent).at(-1)!).reduce((s, v) => s + v.gflops, 0);
        expect(credited).toBeLessThanOrEqual(gpu);
      }
    }
  });

  it('a node never verified is first challenged at least the shortest interval after it connects, with a probe below its class', async () => {
    // Rounds come at most 180 s apart: waiting 180 s skips at least the first.
    const { clock, nodes, rounds } = await roundSetup(['newcomer'], null, { minIntervalMs: 180_000 });
    const n = nodes[0]!;
    n.challenger.start();
    const eligible = clock.mono + 180_000;
    const seen: number[] = [];
    while (challenges(n.sent).length === 0) {
      await clock.advanceTo((rounds.pending as Round).at);
      await rounds.settled();
      seen.push(clock.mono);
    }
    expect(seen.length).toBeGreaterThan(1);
    expect(seen[0]).toBeLessThan(eligible);
    expect(n.sentAt[0]).toBeGreaterThanOrEqual(eligible);
    expect(challenges(n.sent)[0]!.reps).toBe(roundShape({ ...settings, ...roundSettings }, false, { gflops: 1, measured: false, overran: false }, 100).reps);
  });

  it('reconnecting does not put a round off: a node back before the round is in it', async () => {
    const { clock, nodes, rounds, store, nextRound } = await roundSetup(['back']);
    const first = nodes[0]!;
    first.challenger.start();
    await clock.advance(1000);
    await first.challenger.stop();
    const again = await setup('back', { clock, store, schedule: rounds, lastGflops: LAST, overrides: roundSettings, analyser: fakeAnalyser() });
    again.challenger.start();
    await nextRound();
    expect(challenges(again.sent)).toHaveLength(1);
    expect(challenges(first.sent)).toHaveLength(0);
  });

  it('no commit by potDeadlineMs is a missed deadline (a strike), and the next round asks half', async () => {
    const { clock, nodes, nextRound, store } = await roundSetup(['silent']);
    const n = nodes[0]!;
    n.challenger.start();
    await nextRound();
    await clock.advance(10_000);
    expect(verdicts(n.sent)[0]).toMatchObject({ ok: false, reason: 'deadline: no commit within 10000 ms' });
    expect((await store.getNode(n.node.id))?.strikes).toBe(1);
    await nextRound();
    expect(challenges(n.sent)[1]!.reps).toBe(roundShape({ ...settings, ...roundSettings }, false, { gflops: LAST / 2, measured: true, overran: false }, 100).reps);
  });
});

describe('solo challenges (challengeNow)', () => {
  it('opens only after the commit, then verifies the reveal; gflops uses its own clock less the median RTT', async () => {
    const { clock, sent, challenger, store, node } = await setup('honest');
    expect(await challenger.challengeNow()).toBe(true);
    const ch = challenges(sent)[0]!;
    expect(sent.some((m) => m.t === 'open')).toBe(false);
    const proof = computePot(Buffer.from(ch.seed, 'hex'), ch.n, ch.reps);
    await clock.advance(1.1);
    // Claims 1 µs; the coordinator saw 1.1 ms less a median RTT of 0.1 ms.
    await challenger.onCommit({ t: 'commit', id: ch.id, root: Buffer.from(proof.root).toString('hex'), elapsedUs: 1, device: 'cpu' }, clock.monotonic());
    const open = sent.find((m) => m.t === 'open') as { checks: [number, number][] };
    expect(open.checks).toHaveLength(8);
    const items = buildReveal({ checks: open.checks, repHashes: proof.repHashes, repDigests: proof.repDigests });
    await challenger.onReveal({ t: 'reveal', id: ch.id, items: encodeRevealItems(items) });
    const v = verdicts(sent)[0]!;
    expect(v).toMatchObject({ ok: true, reason: null, gflops: verdictGflops({ n: 64, reps: 4 }, 1, 1000) });
    expect(v.gflops).toBe(Math.floor((2 * 64 ** 3 * 4) / 1000 / 1000));
    expect((await store.getNode(node.id))?.gflops).toBe(v.gflops);
    await challenger.stop();
  });

  it('a missed commit deadline and a missed reveal deadline fail as deadline (strikes, no other penalty here)', async () => {
    const { clock, sent, challenger, store, node } = await setup('late');
    await challenger.challengeNow();
    await clock.advance(10_000);
    expect(verdicts(sent)[0]).toMatchObject({ ok: false, reason: 'deadline: no commit within 10000 ms' });
    await challenger.challengeNow();
    const ch = challenges(sent)[1]!;
    await challenger.onCommit({ t: 'commit', id: ch.id, root: 'ab'.repeat(32), elapsedUs: 5, device: 'cpu' }, clock.monotonic());
    await clock.advance(10_001);
    expect(verdicts(sent)[1]).toMatchObject({ ok: false, reason: 'deadline: no reveal within 10000 ms of open' });
    expect((await store.getNode(node.id))?.strikes).toBe(2);
    await challenger.stop();
  });

  it('refuses a commit for another id or twice, and a device the node never reported', async () => {
    const { clock, sent, refused, challenger } = await setup('stray');
    await challenger.challengeNow();
    const ch = challenges(sent)[0]!;
    await challenger.onCommit({ t: 'commit', id: 'other', root: 'ab'.repeat(32), elapsedUs: 5, device: 'cpu' }, clock.monotonic());
    expect(refused).toHaveLength(1);
    await challenger.onCommit({ t: 'commit', id: ch.id, root: 'ab'.repeat(32), elapsedUs: 5, device: 'GPU-00000000-0000-0000-0000-000000000000' }, clock.monotonic());
    expect(verdicts(sent)[0]).toMatchObject({ ok: false, reason: expect.stringMatching(/^unknown-device: /) as unknown });
    await challenger.onCommit({ t: 'commit', id: ch.id, root: 'ab'.repeat(32), elapsedUs: 5, device: 'cpu' }, clock.monotonic());
    expect(refused).toHaveLength(2);
    await challenger.stop();
  });

  it('a node that disconnects mid-challenge gets a deadline failure', async () => {
    const { sent, challenger } = await setup('gone');
    await challenger.challengeNow();
    await challenger.stop();
    expect(verdicts(sent)[0]).toMatchObject({ ok: false, reason: 'deadline: the node disconnected before answering' });
    expect(await challenger.challengeNow()).toBe(false);
  });

  it('a malformed reveal fails the challenge (not just a nack)', async () => {
    const { clock, sent, challenger } = await setup('malformed');
    await challenger.challengeNow();
    const ch = challenges(sent)[0]!;
    await challenger.onCommit({ t: 'commit', id: ch.id, root: 'ab'.repeat(32), elapsedUs: 5, device: 'cpu' }, clock.monotonic());
    await challenger.onReveal({ t: 'reveal', id: ch.id, items: [{ r: 0, digests: 'AAAA', path: [] }] });
    expect(verdicts(sent)[0]).toMatchObject({ ok: false, reason: expect.stringMatching(/^malformed-reveal: items\[0\]\.digests/) as unknown });
    await challenger.stop();
  });
});

describe('challengeShape and verdictGflops', () => {
  it('picks reps so the expected device needs about targetSeconds, from its last verdict once it has one', () => {
    expect(challengeShape({ ...settings, reps: null }, true, null)).toEqual({ n: 4096, reps: Math.round((5 * 100_000e9) / (2 * 4096 ** 3)), k: 8 });
    expect(challengeShape({ ...settings, reps: null }, false, null)).toEqual({ n: 64, reps: Math.round((5 * 20e9) / (2 * 64 ** 3)), k: 8 });
    expect(challengeShape({ ...settings, reps: null }, true, 400_000).reps).toBe(Math.round((5 * 400_000e9) / (2 * 4096 ** 3)));
    // A failed last verdict (0) falls back to the class figure; k never exceeds reps·n.
    expect(challengeShape({ ...settings, reps: null, cpuGflops: 1 }, false, 0)).toMatchObject({ reps: Math.round(5e9 / (2 * 64 ** 3)) });
    expect(challengeShape({ ...settings, reps: 1, k: 256 }, false, null).k).toBe(64);
  });

  it('grants the work over the longer of the claimed and the observed time', () => {
    const shape = { n: 4096, reps: 100 };
    const flops = 2 * 4096 ** 3 * 100;
    expect(verdictGflops(shape, 1_000_000, 500_000)).toBe(Math.floor(flops / 1e9));
    expect(verdictGflops(shape, 1, 2_000_000)).toBe(Math.floor(flops / 2e9));
    expect(verdictGflops(shape, 0, -5)).toBe(Math.floor(flops / 1000));
  });
});
