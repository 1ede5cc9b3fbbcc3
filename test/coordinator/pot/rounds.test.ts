/** A process's challenge rounds (coordinator/pot/rounds.ts), with fake members on a fake clock. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.js';
import { ChallengeRounds, type RoundMember } from '../../../coordinator/pot/rounds.js';
import { roundKey, RoundSchedule, type Round } from '../../../coordinator/pot/schedule.js';
import type { NodeInfo } from '../../../coordinator/store/types.js';
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

function setup(banned: string[] = []) {
  const clock = new FakeClock();
  const store = { getNode: (node: string) => Promise.resolve(banned.includes(node) ? ({ banned: true } as NodeInfo) : null) };
  const rounds = new ChallengeRounds({ schedule: new RoundSchedule(key, settings), clock, store, log: createLogger({ level: 'silent' }) });
  return { clock, rounds, schedule: new RoundSchedule(key, settings) };
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
