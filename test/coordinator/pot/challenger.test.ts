/**
 * The challenge lifecycle driven by a fake clock and a fixed random stream:
 * random times, deadlines, the order commit -> open -> reveal -> verdict,
 * and the gflops bound from the coordinator's own clock less the median RTT.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createInlineAnalyser } from '../../../coordinator/analyser.js';
import type { RandomBytes } from '../../../coordinator/clock.js';
import { Challenger, challengeShape, verdictGflops, type PotSettings } from '../../../coordinator/pot/challenger.js';
import { RttTracker } from '../../../coordinator/rtt.js';
import { openSqliteStore } from '../../../coordinator/store/sqlite.js';
import { createLogger } from '../../../common/log.js';
import { verifyCoordinatorMessage, type Challenge, type Verdict } from '../../../proofs/messages.js';
import { buildReveal, computePot, encodeRevealItems } from '../../../proofs/pot.js';
import { testKey } from '../../helpers/keys.js';
import { FakeClock } from '../../helpers/ledger-fixture.js';
import { tempDir } from '../../helpers/tmp.js';

function randomStream(label: string): RandomBytes {
  let counter = 0;
  return (size) => {
    const out = new Uint8Array(size);
    for (let at = 0; at < size; at += 32) out.set(createHash('sha256').update(`${label}:${counter++}`).digest().subarray(0, Math.min(32, size - at)), at);
    return out;
  };
}

const coordinator = testKey('challenger-coordinator');
const settings: PotSettings = { enabled: true, minIntervalMs: 1000, maxIntervalMs: 5000, n: 4096, cpuN: 64, reps: 4, targetSeconds: 5, gpuGflops: 100_000, cpuGflops: 20, k: 8, deadlineMs: 10_000 };

async function setup(label = 'a', overrides: Partial<PotSettings> = {}, clock = new FakeClock(), schedule = new Map<string, number>()) {
  const store = openSqliteStore(join(tempDir(), 'ledger.db'));
  const node = testKey(`challenger-${label}`);
  await store.nodeConnected(node.id, { agent: 'capanode/0', inventory: { gpus: [] }, at: clock.now() });
  const sent: (Challenge | Verdict | { t: 'open'; id: string; checks: [number, number][] })[] = [];
  const refused: string[] = [];
  const rtt = new RttTracker();
  for (const ms of [0.2, 0.1, 0.1]) rtt.add(ms);
  const challenger = new Challenger({
    node: node.id,
    schedule,
    inventory: { gpus: [] },
    lastGflops: null,
    key: coordinator,
    store,
    clock,
    random: randomStream(label),
    analyser: createInlineAnalyser(createLogger({ level: 'silent' })),
    rtt,
    settings: { ...settings, ...overrides },
    log: createLogger({ level: 'silent' }),
    send: (m) => sent.push(m),
    refuse: (m) => refused.push(m),
  });
  return { clock, store, node, sent, refused, challenger, schedule };
}

const challenges = (sent: { t: string }[]) => sent.filter((m): m is Challenge => m.t === 'challenge');
const verdicts = (sent: { t: string }[]) => sent.filter((m): m is Verdict => m.t === 'verdict');

describe('Challenger', () => {
  it('challenges at a random time within [min, max], different for different random streams', async () => {
    const times: number[] = [];
    for (const label of ['t1', 't2', 't3']) {
      const { clock, sent, challenger } = await setup(label);
      challenger.start();
      await clock.advance(999);
      expect(challenges(sent)).toHaveLength(0);
      while (challenges(sent).length === 0) await clock.advance(10);
      times.push(clock.mono);
      expect(clock.mono).toBeLessThanOrEqual(5010);
      expect(verifyCoordinatorMessage(challenges(sent)[0]!, coordinator.id)).toBe(true);
      await challenger.stop();
    }
    expect(new Set(times).size).toBeGreaterThan(1);
  });

  it('keeps a node\'s schedule across sessions: reconnecting does not put a challenge off', async () => {
    const clock = new FakeClock();
    const schedule = new Map<string, number>();
    const first = await setup('resched', {}, clock, schedule);
    first.challenger.start();
    const due = [...schedule.values()][0]!;
    await clock.advance(500);
    await first.challenger.stop();
    const second = await setup('resched', {}, clock, schedule);
    second.challenger.start();
    await clock.advance(due - clock.mono - 1);
    expect(challenges(second.sent)).toHaveLength(0);
    await clock.advance(1);
    expect(challenges(second.sent)).toHaveLength(1);
    await second.challenger.stop();
    // Overdue after an absence: challenged within minIntervalMs of coming back.
    const third = await setup('resched', {}, clock, schedule);
    await clock.advance(100_000);
    third.challenger.start();
    await clock.advance(1000);
    expect(challenges(third.sent)).toHaveLength(1);
    await third.challenger.stop();
  });

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
