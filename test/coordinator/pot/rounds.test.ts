/** A process's challenge rounds (coordinator/pot/rounds.ts), with fake members on a fake clock. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.js';
import { ChallengeRounds, type RoundMember } from '../../../coordinator/pot/rounds.js';
import { roundKey, RoundSchedule, type Round } from '../../../coordinator/pot/schedule.js';
import type { JobRow } from '../../../coordinator/store/job-types.js';
import type { NodeInfo } from '../../../coordinator/store/types.js';
import type { Inventory } from '../../../proofs/messages.js';
import { testKey } from '../../helpers/keys.js';
import { FakeClock } from '../../helpers/ledger-fixture.js';

const settings = { minIntervalMs: 60_000, maxIntervalMs: 180_000 };
const key = roundKey(testKey('rounds-coordinator').secretKey);

class Member implements RoundMember {
  readonly sent: { round: Round; start: number }[] = [];
  constructor(
    readonly node: string,
    private readonly behaviour: { busy?: boolean; fails?: boolean; prepareMs?: number; clock?: FakeClock } = {},
  ) {}
  async prepare(round: Round): Promise<((start: number) => void) | null> {
    if (this.behaviour.fails === true) throw new Error('store unavailable');
    if (this.behaviour.busy === true) return null;
    // Storing takes a while for some: the window still starts for all at once, after the last is stored.
    if (this.behaviour.prepareMs !== undefined) await new Promise((r) => setTimeout(r, this.behaviour.prepareMs));
    return (start) => this.sent.push({ round, start });
  }
}

function setup(banned: string[] = [], jobs: () => JobRow[] = () => [], inventories: Record<string, Inventory> = {}) {
  const clock = new FakeClock();
  const store = {
    getNode: (node: string) => Promise.resolve({ banned: banned.includes(node), inventory: inventories[node] ?? { gpus: [] } } as NodeInfo),
    unsettledJobs: () => Promise.resolve(jobs()),
  };
  const rounds = new ChallengeRounds({ schedule: new RoundSchedule(key, settings), clock, store, log: createLogger({ level: 'silent' }) });
  return { clock, rounds, schedule: new RoundSchedule(key, settings) };
}

/** A job the dispatcher sent `node` (not pinned), running since `assignedAt`. */
function running(node: string, assignedAt: number, patch: Partial<JobRow> = {}): JobRow {
  return {
    id: `job-${node}-${assignedAt}`, group: `job-${node}-${assignedAt}`, workload: 'exec', params: '{}', deadlineMs: 86_400_000, fee: 1, redundancy: 1, pinned: null, node, state: 'running',
    rejectedBy: [], reason: null, submittedAt: assignedAt, assignedAt, finishedAt: null, cancelRequested: false, usageSeq: null, usageAt: null, usageAccepted: null, usageCode: null,
    usageReason: null, outputSha256: null, gpuMs: null, energyMj: null, audit: 'none', creditedAt: null, ...patch,
  };
}

/** Runs the next `count` rounds; returns them. */
async function runRounds(clock: FakeClock, rounds: ChallengeRounds, schedule: RoundSchedule, count: number): Promise<Round[]> {
  const out: Round[] = [];
  for (let i = 0; i < count; i++) {
    const next = schedule.next(out[out.length - 1]?.at ?? clock.now());
    await clock.advanceTo(next.at);
    await rounds.settled();
    out.push(next);
  }
  return out;
}

describe('challenge rounds', () => {
  it('challenges every member at each round time, all with one window start', async () => {
    const { clock, rounds, schedule } = setup();
    const members = ['a', 'b', 'c'].map((n) => new Member(n, n === 'b' ? { prepareMs: 5 } : {}));
    for (const m of members) rounds.join(m);
    const first = schedule.next(clock.now());
    expect(rounds.pending).toEqual(first);
    await clock.advanceTo(first.at - 1);
    expect(members.every((m) => m.sent.length === 0)).toBe(true);
    await clock.advance(1);
    await rounds.settled();
    expect(members.map((m) => m.sent)).toEqual(members.map(() => [{ round: first, start: clock.mono }]));
    // The next round is armed after it, at the schedule's next time.
    const second = schedule.next(first.at);
    expect(rounds.pending).toEqual(second);
    await clock.advanceTo(second.at);
    await rounds.settled();
    for (const m of members) expect(m.sent.map((s) => s.round)).toEqual([first, second]);
  });

  it('a node that joins after a round started waits for the next; one busy, banned or failing sits the round out', async () => {
    const { clock, rounds, schedule } = setup(['banned']);
    const busy = new Member('busy', { busy: true });
    const failing = new Member('failing', { fails: true });
    const banned = new Member('banned');
    const ok = new Member('ok', { prepareMs: 5 });
    for (const m of [busy, failing, banned, ok]) rounds.join(m);
    const first = schedule.next(clock.now());
    await clock.advanceTo(first.at);
    // Joins while the round's challenges are being stored: not in this round.
    const late = new Member('late');
    rounds.join(late);
    await rounds.settled();
    expect(ok.sent).toHaveLength(1);
    expect([busy, failing, banned, late].map((m) => m.sent.length)).toEqual([0, 0, 0, 0]);
    await clock.advanceTo(schedule.next(first.at).at);
    await rounds.settled();
    expect(late.sent.map((s) => s.round)).toEqual([schedule.next(first.at)]);
  });

  it('stops when the last member leaves and picks the schedule up again, never running a round twice', async () => {
    const { clock, rounds, schedule } = setup();
    const a = new Member('a');
    rounds.join(a);
    const first = schedule.next(clock.now());
    await clock.advanceTo(first.at);
    await rounds.settled();
    rounds.leave(a);
    expect(rounds.pending).toBeNull();
    const second = schedule.next(first.at);
    await clock.advanceTo(second.at + 1);
    expect(a.sent).toHaveLength(1);
    // Back after `second` passed: the next one is the one after it.
    rounds.join(a);
    expect(rounds.pending).toEqual(schedule.next(second.at + 1));
    expect(rounds.pending?.at).toBeGreaterThan(first.at);
  });
});

describe('challenge rounds: nodes busy with the coordinator\'s jobs', () => {
  const gpus = (count: number): Inventory => ({ gpus: Array.from({ length: count }, (_, i) => ({ uuid: `GPU-0000000${i}-0000-0000-0000-000000000000`, name: 'H100', memoryMiB: 81_559 })) });

  it('sits out a round when every GPU runs a job it was sent, after being challenged in the two rounds before, so at most one round in three', async () => {
    const jobs: JobRow[] = [];
    const { clock, rounds, schedule } = setup([], () => jobs, { one: gpus(1), two: gpus(2) });
    const one = new Member('one');
    const two = new Member('two');
    for (const m of [one, two]) rounds.join(m);
    jobs.push(running('one', clock.now()), running('two', clock.now()));
    const ran = await runRounds(clock, rounds, schedule, 7);
    // One running job on one of two GPUs leaves the node free to compute its challenge: challenged every round.
    expect(two.sent.map((s) => s.round)).toEqual(ran);
    // Busy all along: challenged, challenged, excused, challenged, challenged, excused, challenged.
    expect(one.sent.map((s) => s.round)).toEqual([ran[0], ran[1], ran[3], ran[4], ran[6]]);
  });

  it('counts only running jobs the dispatcher chose the node for, sent before the round and inside their deadline', async () => {
    let jobs: JobRow[] = [];
    const { clock, rounds, schedule } = setup([], () => jobs);
    const m = new Member('n');
    rounds.join(m);
    await runRounds(clock, rounds, schedule, 2);
    const cases: [string, (t: number) => JobRow[]][] = [
      ['pinned by whoever submitted it', (t) => [running('n', t, { pinned: 'n' })]],
      ['sent but not reported running', (t) => [running('n', t, { state: 'assigned' })]],
      ['being cancelled', (t) => [running('n', t, { cancelRequested: true })]],
      ['past its deadline', (t) => [running('n', t, { deadlineMs: 1 })]],
      ['sent at the round time', (t) => [running('n', schedule.next(t).at)]],
      ['another node\'s', (t) => [running('other', t)]],
    ];
    for (const [what, list] of cases) {
      jobs = list(clock.now());
      const before = m.sent.length;
      await runRounds(clock, rounds, schedule, 1);
      expect(m.sent.length, what).toBe(before + 1);
    }
    jobs = [running('n', clock.now())];
    const before = m.sent.length;
    await runRounds(clock, rounds, schedule, 1);
    expect(m.sent.length).toBe(before);
  });

  it('never excuses a node this process did not challenge in the rounds just before: new, back from away, or after a round it did not run', async () => {
    const jobs: JobRow[] = [];
    const { clock, rounds, schedule } = setup([], () => jobs);
    const a = new Member('a');
    const b = new Member('b');
    rounds.join(a);
    jobs.push(running('a', clock.now()), running('b', clock.now()));
    await runRounds(clock, rounds, schedule, 2);
    // b joins busy: challenged in its first two rounds here.
    rounds.join(b);
    const [r3, r4, r5] = await runRounds(clock, rounds, schedule, 3);
    expect(b.sent.map((s) => s.round)).toEqual([r3, r4]);
    expect(a.sent.map((s) => s.round).slice(-2)).toEqual([r4, r5]);
    // Away at a round: challenged in the two after it.
    rounds.leave(a);
    const [r6] = await runRounds(clock, rounds, schedule, 1);
    rounds.join(a);
    const [r7, r8, r9] = await runRounds(clock, rounds, schedule, 3);
    expect(a.sent.map((s) => s.round).filter((r) => r.at >= r6!.at)).toEqual([r7, r8]);
    // This process ran no round while it had no member: it cannot tell who was challenged in the ones it missed.
    rounds.leave(a);
    rounds.leave(b);
    await clock.advanceTo(schedule.next(r9!.at).at);
    rounds.join(a);
    const [r11] = await runRounds(clock, rounds, schedule, 1);
    expect(a.sent.map((s) => s.round).at(-1)).toEqual(r11);
  });

  it('whatever jobs two identities hold, they are challenged together at least once in any three consecutive rounds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.boolean(), fc.boolean()), { minLength: 9, maxLength: 9 }), async (pattern) => {
        let jobs: JobRow[] = [];
        const { clock, rounds, schedule } = setup([], () => jobs);
        const a = new Member('a');
        const b = new Member('b');
        rounds.join(a);
        rounds.join(b);
        const ran: Round[] = [];
        for (const [busyA, busyB] of pattern) {
          const t = clock.now();
          jobs = [...(busyA ? [running('a', t)] : []), ...(busyB ? [running('b', t)] : [])];
          ran.push(...(await runRounds(clock, rounds, schedule, 1)));
        }
        const both = ran.map((r) => a.sent.some((s) => s.round.at === r.at) && b.sent.some((s) => s.round.at === r.at));
        for (let i = 0; i + 3 <= both.length; i++) expect(both.slice(i, i + 3)).toContain(true);
      }),
      { numRuns: 60 },
    );
  });
});
