/**
 * The simulator's `windowed` schedule against the real coordinator: the
 * same scenario (nodes alone on GPUs faster and slower than the probe, two
 * identities sharing a third, all starting from the probe) played by the simulator and replayed, commit
 * for commit, through real Challengers on a fake clock. They ask the same
 * reps every round and give the same verdicts and gflops.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.js';
import { Challenger, type PotSettings } from '../../../coordinator/pot/challenger.js';
import { initialBasis, type Basis } from '../../../coordinator/pot/window.js';
import { RttTracker } from '../../../coordinator/rtt.js';
import { DEFAULT_MECHANICS, type Mechanics } from '../../../coordinator/sim/index.js';
import { aloneCommit, askedReps, roundVerdict, sharedCommits, type SimCommit } from '../../../coordinator/sim/window-round.js';
import { openSqliteStore } from '../../../coordinator/store/sqlite.js';
import { systemRandom } from '../../../coordinator/clock.js';
import type { Challenge, Verdict } from '../../../proofs/messages.js';
import { testKey } from '../../helpers/keys.js';
import { FakeClock } from '../../helpers/ledger-fixture.js';
import { tempDir } from '../../helpers/tmp.js';
import { answer, fakeAnalyser } from '../pot/fake-pot.js';

const m: Mechanics = { ...DEFAULT_MECHANICS, potN: 64, potTargetMs: 1000, potMarginPercent: 10, potGpuGflops: 16, potRttMs: 0.1, potDeadlineMs: 10_000 };
const settings: PotSettings = {
  enabled: true,
  minIntervalMs: 0,
  maxIntervalMs: 1,
  n: 4096,
  cpuN: m.potN,
  reps: null,
  targetSeconds: m.potTargetMs / 1000,
  gpuGflops: 100_000,
  cpuGflops: m.potGpuGflops,
  k: 8,
  deadlineMs: m.potDeadlineMs,
  marginPercent: m.potMarginPercent,
};
const coordinator = testKey('sim-agreement-coordinator');

interface Identity {
  challenger: Challenger;
  sent: { t: string }[];
  /** The simulator's view of the same identity. */
  basis: Basis;
}

async function identities(count: number, clock: FakeClock, label: string): Promise<Identity[]> {
  const store = openSqliteStore(join(tempDir(), 'ledger.db'));
  const out: Identity[] = [];
  for (let i = 0; i < count; i++) {
    const node = testKey(`sim-agreement-${label}-${i}`);
    await store.nodeConnected(node.id, { agent: 'capanode/0', inventory: { gpus: [] }, at: clock.now() });
    const rtt = new RttTracker();
    rtt.add(m.potRttMs);
    const sent: { t: string }[] = [];
    const challenger = new Challenger({
      node: node.id,
      schedule: { join: () => undefined, leave: () => undefined },
      inventory: { gpus: [] },
      lastGflops: null,
      key: coordinator,
      store,
      clock,
      random: systemRandom,
      analyser: fakeAnalyser(),
      rtt,
      settings,
      log: createLogger({ level: 'silent' }),
      send: (msg) => sent.push(msg),
      refuse: (msg) => {
        throw new Error(msg);
      },
    });
    challenger.start();
    out.push({ challenger, sent, basis: initialBasis(null, m.potGpuGflops) });
  }
  return out;
}

const last = <T extends { t: string }>(sent: { t: string }[], t: T['t']): T => sent.filter((x) => x.t === t).at(-1) as T;

describe('the simulator and the coordinator credit the same', () => {
  it('round after round: the same reps, commit times replayed, the same verdicts and gflops', async () => {
    const clock = new FakeClock();
    // Alone on a GPU faster than the probe, alone on one slower (its probe comes after the window), and two sharing one.
    const groups = [
      { ids: await identities(1, clock, 'fast'), gflops: 1.2 },
      { ids: await identities(1, clock, 'slow'), gflops: 0.5 },
      { ids: await identities(2, clock, 'shared'), gflops: 1.6 },
    ];
    const outcomes = new Set<string>();
    for (let round = 0; round < 8; round++) {
      await clock.advance(60_000);
      const start = clock.mono;
      const roundInfo = { era: 0, index: round, at: clock.now() };
      for (const g of groups) {
        const sends = await Promise.all(g.ids.map((id) => id.challenger.prepare(roundInfo)));
        for (const send of sends) send?.(start);
      }
      const played = groups.map((g) => {
        const challenges = g.ids.map((id) => last<Challenge>(id.sent, 'challenge'));
        const reps = g.ids.map((id) => askedReps(id.basis, m));
        expect(challenges.map((c) => c.reps)).toEqual(reps);
        const played: SimCommit[] = g.ids.length === 1 ? [aloneCommit(reps[0]!, g.gflops, m)] : sharedCommits(reps, g.ids.map((id) => id.basis), g.gflops, m);
        // Round 5: the slow node's GPU is elsewhere and it does not answer.
        const commits = round === 5 && g.gflops === 0.5 ? [{ arrivalMs: null, elapsedUs: 1 }] : played;
        return { g, challenges, reps, commits };
      });
      for (const { g, challenges, commits } of played) {
        for (const [i, id] of g.ids.entries()) {
          const commit = commits[i]!;
          if (commit.arrivalMs !== null) await answer(id.challenger, challenges[i]!, start + commit.arrivalMs, commit.elapsedUs, id.sent);
        }
      }
      // Anything not committed is missed at potDeadlineMs.
      await clock.advance(m.potDeadlineMs);
      for (const { g, challenges, reps, commits } of played) {
        const credited = g.ids.map((id, i) => {
          const sim = roundVerdict(reps[i]!, commits[i]!, id.basis, true, m);
          const real = last<Verdict>(id.sent, 'verdict');
          expect(real.id).toBe(challenges[i]!.id);
          expect({ ok: real.ok, gflops: real.gflops, missed: real.reason?.startsWith('deadline:') ?? false }).toEqual({ ok: sim.outcome === 'pass', gflops: sim.gflops, missed: sim.outcome === 'missed' });
          outcomes.add(`${sim.outcome}${sim.outcome === 'pass' && sim.gflops === 0 ? ' late' : ''}`);
          id.basis = sim.basis;
          return sim.gflops;
        });
        // Never more, together, than the GPU.
        expect(credited.reduce((s, x) => s + x, 0)).toBeLessThanOrEqual(g.gflops);
      }
    }
    expect([...outcomes].sort()).toEqual(['missed', 'pass', 'pass late']);
  });
});

describe('windowed rounds in the simulator', () => {
  const d = DEFAULT_MECHANICS;
  const measured = (gflops: number, overran = false): Basis => ({ gflops, measured: true, overran });

  it('a node alone commits when done and is credited (100 - margin)% of its speed, less its round trip', () => {
    const reps = askedReps(measured(300_000), d);
    const commit = aloneCommit(reps, 300_000, d);
    expect(commit.arrivalMs).toBeLessThanOrEqual(d.potTargetMs * 0.9);
    const v = roundVerdict(reps, commit, measured(300_000), true, d);
    expect(v.outcome).toBe('pass');
    expect(v.gflops / 300_000).toBeCloseTo((4500 - 80) / 5000, 3);
    expect(v.basis.gflops).toBeCloseTo(300_000, -2);
    // Checks that find skipped work fail it, without touching its basis.
    expect(roundVerdict(reps, commit, measured(300_000), false, d)).toEqual({ outcome: 'fail', gflops: 0, basis: measured(300_000) });
  });

  it('a commit after the window passes with 0 and measures the node; none at all is a miss that halves its basis', () => {
    const reps = askedReps(measured(300_000), d);
    const slow = aloneCommit(reps, 200_000, d);
    expect(slow.arrivalMs).toBeGreaterThan(d.potTargetMs);
    const v = roundVerdict(reps, slow, measured(300_000), true, d);
    expect(v).toMatchObject({ outcome: 'pass', gflops: 0 });
    expect(roundVerdict(reps, slow, measured(300_000), false, d).outcome).toBe('fail');
    expect(v.basis.gflops).toBeCloseTo(200_000, -3);
    expect(roundVerdict(reps, { arrivalMs: null, elapsedUs: 1 }, measured(300_000), true, d)).toEqual({ outcome: 'missed', gflops: 0, basis: measured(150_000, true) });
  });

  it('identities sharing a GPU commit inside the window, are credited at most the GPU, and size the next round to fill the window, no more', () => {
    const gpu = 165_000;
    for (const bases of [[measured(80_000), measured(80_000)], [measured(150_000), measured(20_000), measured(10_000)], [measured(165_000), measured(165_000)]]) {
      const reps = bases.map((b) => askedReps(b, d));
      const commits = sharedCommits(reps, bases, gpu, d);
      const verdicts = reps.map((r, i) => roundVerdict(r, commits[i]!, bases[i]!, true, d));
      expect(verdicts.reduce((s, v) => s + v.gflops, 0)).toBeLessThanOrEqual(gpu);
      const nextWork = verdicts.reduce((s, v) => s + askedReps(v.basis, d) * 2 * d.potN ** 3, 0);
      expect(nextWork / (gpu * 1e6)).toBeLessThanOrEqual(d.potTargetMs - d.potRttMs);
    }
  });
});
