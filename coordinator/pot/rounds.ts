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
 */
import type { Logger } from '../../common/log.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { Store } from '../store/types.js';
import { RoundSchedule, type Round, type RoundScheduleSettings } from './schedule.js';

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
  store: Pick<Store, 'getNode'>;
  log: Logger;
}

export class ChallengeRounds implements ChallengeSchedule {
  private readonly members = new Set<RoundMember>();
  private timer: TimerHandle | null = null;
  private upcoming: Round | null = null;
  /** The last round run (or skipped): never run twice, even if the wall clock steps back. */
  private last: Round | null = null;
  private running: Promise<void> | null = null;

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
    const senders = await Promise.all(
      members.map(async (m) => {
        try {
          // Banned nodes are closed, but a ban may land between two rounds.
          if ((await store.getNode(m.node))?.banned === true) return null;
          return await m.prepare(round);
        } catch (e) {
          log.error({ err: e, node: m.node }, 'could not prepare a round challenge');
          return null;
        }
      }),
    );
    const start = clock.monotonic();
    let sent = 0;
    for (const send of senders) {
      if (send === null) continue;
      send(start);
      sent++;
    }
    log.info({ round: `${round.era}.${round.index}`, members: members.length, challenged: sent, lateMs: clock.now() - round.at }, 'PoT challenge round');
  }
}
