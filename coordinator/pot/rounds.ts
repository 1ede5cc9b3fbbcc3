/**
 * The challenge rounds of one coordinator process: at each round time
 * (schedule.ts) every node with a session here takes part, all at once.
 * Every member's challenge is stored first; then all are sent in one
 * synchronous burst and the window of each starts at the same instant, so
 * no identity gets a head start on another that shares its GPU. A node that
 * connects after that instant waits for the next round.
 *
 * Several processes sharing one store and key run the same rounds, each for
 * the sessions it holds (one session per node across processes): a node's
 * window is measured on the clock of the process holding its session.
 *
 * A node whose every job slot runs a job the dispatcher sent it (jobs/busy.ts)
 * sits a round out, basis untouched and no miss, but only after being
 * challenged in both rounds before it, by this process. Identities sharing a
 * GPU could otherwise take turns being busy so that each meets its rounds
 * alone and shows the whole GPU: with one round in two they could alternate
 * for ever, while with one in three any two of them are challenged together
 * at least once in every three rounds, and that round's late commit or
 * over-budget penalty (window.ts) undoes whatever a lone round let one grow.
 */
import type { Logger } from '../../common/log.js';
import type { Clock, TimerHandle } from '../clock.js';
import { busyJobCounts, fullyBusy } from '../jobs/busy.js';
import type { Store } from '../store/types.js';
import { RoundSchedule, type Round, type RoundScheduleSettings } from './schedule.js';

/** A busy node sits a round out only after being challenged in this many rounds just before it. */
export const CHALLENGED_BEFORE_EXCUSE = 2;

/** A node in the rounds: its challenger. */
export interface RoundMember {
  readonly node: string;
  /**
   * Stores this node's challenge for the round; resolves to the function
   * that sends it (given the burst's monotonic instant), or null when the
   * node sits this round out (a challenge still in progress, stopped).
   */
  prepare(round: Round): Promise<((startMono: number) => void) | null>;
}

/** What a challenger needs of the rounds. */
export interface ChallengeSchedule {
  join(member: RoundMember): void;
  leave(member: RoundMember): void;
}

export interface ChallengeRoundsDeps {
  schedule: RoundSchedule;
  clock: Clock;
  store: Pick<Store, 'getNode' | 'unsettledJobs'>;
  log: Logger;
}

function roundId(round: Round): string {
  return `${round.era}.${round.index}`;
}

export class ChallengeRounds implements ChallengeSchedule {
  private readonly members = new Set<RoundMember>();
  private timer: TimerHandle | null = null;
  private upcoming: Round | null = null;
  /** The last round run (or skipped): never run twice, even if the wall clock steps back. */
  private last: Round | null = null;
  private running: Promise<void> | null = null;
  /** The rounds this process ran, newest last, as many as an excuse looks back on. */
  private readonly ran: Round[] = [];
  /** Per node: the consecutive rounds run here, up to the last, that challenged it. */
  private readonly streaks = new Map<string, { last: string; rounds: number }>();

  constructor(private readonly deps: ChallengeRoundsDeps) {}

  static create(deps: Omit<ChallengeRoundsDeps, 'schedule'> & { key: Buffer; settings: RoundScheduleSettings }): ChallengeRounds {
    return new ChallengeRounds({ ...deps, schedule: new RoundSchedule(deps.key, deps.settings) });
  }

  join(member: RoundMember): void {
    this.members.add(member);
    if (this.timer === null && this.running === null) this.arm();
  }

  leave(member: RoundMember): void {
    this.members.delete(member);
    if (this.members.size === 0) {
      this.timer?.cancel();
      this.timer = null;
    }
  }

  /** The round the timer waits for (tests, status). */
  get pending(): Round | null {
    return this.timer === null ? null : this.upcoming;
  }

  /** Resolves when the round in progress, if any, has sent its challenges. */
  settled(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private arm(): void {
    const { clock, schedule } = this.deps;
    const now = clock.now();
    const round = schedule.next(Math.max(now, this.last?.at ?? -1));
    this.upcoming = round;
    this.timer = clock.after(round.at - now, () => {
      this.timer = null;
      this.running = this.run(round)
        .catch((e: unknown) => this.deps.log.error({ err: e, round: `${round.era}.${round.index}` }, 'challenge round failed'))
        .finally(() => {
          this.running = null;
          if (this.members.size > 0 && this.timer === null) this.arm();
        });
    });
  }

  private async run(round: Round): Promise<void> {
    this.last = round;
    const { store, clock, log } = this.deps;
    const members = [...this.members];
    const busy = await this.busyJobs(round);
    const excused = new Set<string>();
    const senders = await Promise.all(
      members.map(async (m) => {
        try {
          const info = await store.getNode(m.node);
          // Banned nodes are closed, but a ban may land between two rounds.
          if (info?.banned === true) return null;
          if (busy !== null && this.excusable(m.node) && fullyBusy(info?.inventory ?? null, busy.get(m.node) ?? 0)) {
            excused.add(m.node);
            return null;
          }
          return await m.prepare(round);
        } catch (e) {
          log.error({ err: e, node: m.node }, 'could not prepare a round challenge');
          return null;
        }
      }),
    );
    const start = clock.monotonic();
    const challenged: string[] = [];
    senders.forEach((send, i) => {
      const member = members[i];
      if (send === null || member === undefined) return;
      send(start);
      challenged.push(member.node);
    });
    this.remember(round, challenged);
    log.info({ round: roundId(round), members: members.length, challenged: challenged.length, excused: excused.size, lateMs: clock.now() - round.at }, 'PoT challenge round');
  }

  /**
   * Per node, the jobs keeping it busy at the round's time; null (nobody is
   * excused) when no node could be excused or the jobs cannot be read.
   */
  private async busyJobs(round: Round): Promise<Map<string, number> | null> {
    if (!this.ranJustBefore(round)) return null;
    try {
      return busyJobCounts(await this.deps.store.unsettledJobs(), round.at);
    } catch (e) {
      this.deps.log.error({ err: e, round: roundId(round) }, 'could not read the running jobs: no node sits this round out');
      return null;
    }
  }

  /** Whether the rounds this process ran last are the ones just before `round` in the schedule. */
  private ranJustBefore(round: Round): boolean {
    if (this.ran.length < CHALLENGED_BEFORE_EXCUSE) return false;
    let next = round;
    for (let i = this.ran.length - 1; i >= this.ran.length - CHALLENGED_BEFORE_EXCUSE; i--) {
      const prev = this.ran[i];
      if (prev === undefined || roundId(this.deps.schedule.next(prev.at)) !== roundId(next)) return false;
      next = prev;
    }
    return true;
  }

  /** Challenged in each of the rounds this process ran just before (ranJustBefore checks they are the schedule's). */
  private excusable(node: string): boolean {
    const streak = this.streaks.get(node);
    const last = this.ran[this.ran.length - 1];
    return last !== undefined && streak?.last === roundId(last) && streak.rounds >= CHALLENGED_BEFORE_EXCUSE;
  }

  private remember(round: Round, challenged: readonly string[]): void {
    const prev = this.ran[this.ran.length - 1];
    const id = roundId(round);
    for (const node of challenged) {
      const streak = this.streaks.get(node);
      this.streaks.set(node, { last: id, rounds: prev !== undefined && streak?.last === roundId(prev) ? streak.rounds + 1 : 1 });
    }
    // A node not challenged in this round starts over: an excused one too, so excuses are at most one round in three.
    for (const [node, streak] of this.streaks) if (streak.last !== id) this.streaks.delete(node);
    this.ran.push(round);
    if (this.ran.length > CHALLENGED_BEFORE_EXCUSE) this.ran.shift();
  }
}
