/**
 * Proof of Throughput for one connected node (DESIGN §6): at a random,
 * unannounced time, a signed challenge; on the commit, checks drawn from a
 * CSPRNG (never before: a node must not know which rows will be checked
 * while it still could grind its root); on the reveal, the checked rows
 * recomputed and a signed verdict. Each step is stored before the message
 * that depends on it leaves.
 *
 * The verdict's gflops is 2·n³·reps over the longer of the node's own
 * elapsedUs and the coordinator's clock from sending the challenge to
 * receiving the commit less the median ping round trip: a node cannot claim
 * more than it showed. A missed deadline is a failure with reason
 * `deadline` (rewards do not slash it).
 */
import type { Logger } from '../../common/log.js';
import { canonicalize } from '../../proofs/canonical.js';
import type { KeyPair } from '../../proofs/keys.js';
import { signCoordinatorMessage, type Challenge, type Commit, type Inventory, type Reveal, type Verdict } from '../../proofs/messages.js';
import { checkRevealStructure, chooseChecks, compareRowDigests, parseRevealItems, POT_MAX_REPS, type PotCheck } from '../../proofs/pot.js';
import type { Analyser } from '../analyser.js';
import { randomHex, randomIntBetween, type Clock, type RandomBytes, type TimerHandle } from '../clock.js';
import type { RttTracker } from '../rtt.js';
import type { ChallengeState, Store } from '../store/types.js';

export interface PotSettings {
  enabled: boolean;
  minIntervalMs: number;
  maxIntervalMs: number;
  n: number;
  cpuN: number;
  reps: number | null;
  targetSeconds: number;
  gpuGflops: number;
  cpuGflops: number;
  k: number;
  deadlineMs: number;
}

/**
 * When each node's next challenge is due (monotonic ms), kept across its
 * sessions: reconnecting does not reset the schedule, so a node cannot dodge
 * challenges by reconnecting more often than the shortest interval.
 */
export type ChallengeSchedule = Map<string, number>;

export interface ChallengerDeps {
  node: string;
  schedule: ChallengeSchedule;
  inventory: Inventory;
  /** The node's last verdict's gflops (null or 0: use its class's expected figure). */
  lastGflops: number | null;
  key: KeyPair;
  store: Store;
  clock: Clock;
  random: RandomBytes;
  analyser: Analyser;
  rtt: RttTracker;
  settings: PotSettings;
  log: Logger;
  send(message: Challenge | { t: 'open'; id: string; checks: [number, number][] } | Verdict): void;
  /** Refuses a message that does not fit the challenge's state. */
  refuse(message: string): void;
}

/** Stable prefixes of a failed verdict's reason. */
export type VerdictReasonCode = 'deadline' | 'malformed-reveal' | 'unknown-device' | 'pot-invalid' | 'coordinator-error';

interface Active {
  challenge: Challenge;
  k: number;
  sentMono: number;
  state: 'sent' | 'opened' | 'verifying';
  timer: TimerHandle | null;
  commit?: { root: string; elapsedUs: number; device: string; arrivedMono: number; checks: PotCheck[]; rttUs: number };
}

export interface ChallengeShape {
  n: number;
  reps: number;
  k: number;
}

/** n, reps and k for a node: reps so the device it is expected to be needs about targetSeconds. */
export function challengeShape(settings: PotSettings, hasGpu: boolean, lastGflops: number | null): ChallengeShape {
  const n = hasGpu ? settings.n : settings.cpuN;
  const gflops = lastGflops !== null && lastGflops > 0 ? lastGflops : hasGpu ? settings.gpuGflops : settings.cpuGflops;
  const reps = settings.reps ?? Math.min(POT_MAX_REPS, Math.max(1, Math.round((settings.targetSeconds * gflops * 1e9) / (2 * n ** 3))));
  return { n, reps, k: Math.min(settings.k, reps * n) };
}

/** GFLOP/s a verdict grants: the work over the longer of the node's and the coordinator's timing. */
export function verdictGflops(shape: { n: number; reps: number }, elapsedUs: number, coordinatorUs: number): number {
  const flops = 2 * shape.n ** 3 * shape.reps;
  const us = Math.max(elapsedUs, coordinatorUs, 1);
  return Math.floor(flops / us / 1000);
}

export class Challenger {
  private active: Active | null = null;
  private next: TimerHandle | null = null;
  private stopped = false;
  private lastGflops: number | null;

  constructor(private readonly deps: ChallengerDeps) {
    this.lastGflops = deps.lastGflops;
  }

  /** Arms the node's next challenge: the one already due from an earlier session, or a new random time. */
  start(): void {
    if (!this.deps.settings.enabled) return;
    const due = this.deps.schedule.get(this.deps.node);
    const now = this.deps.clock.monotonic();
    if (due === undefined) this.schedule();
    // Overdue (the node was away when it fell due): soon, at a time it cannot predict.
    else this.arm(due > now ? due - now : randomIntBetween(this.deps.random, 0, this.deps.settings.minIntervalMs));
  }

  /** The session ended: no more challenges; one in progress fails as missed (no slash). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.next?.cancel();
    const a = this.active;
    if (a !== null && a.state !== 'verifying') {
      a.timer?.cancel();
      await this.finish(a, false, 'deadline: the node disconnected before answering', 'expired');
    }
  }

  /** Issues a challenge now unless one is in progress; false when one is. */
  async challengeNow(): Promise<boolean> {
    if (this.stopped || this.active !== null) return false;
    this.next?.cancel();
    await this.issue();
    return true;
  }

  /** Read through a call: stop() may run across an await. */
  private isStopped(): boolean {
    return this.stopped;
  }

  /** The next challenge at a fresh random time in [min, max] from now. */
  private schedule(): void {
    const { minIntervalMs, maxIntervalMs } = this.deps.settings;
    this.arm(randomIntBetween(this.deps.random, minIntervalMs, maxIntervalMs));
  }

  private arm(delay: number): void {
    if (this.stopped) return;
    this.deps.schedule.set(this.deps.node, this.deps.clock.monotonic() + delay);
    this.next = this.deps.clock.after(delay, () => {
      this.issue().catch((e: unknown) => {
        this.deps.log.error({ err: e }, 'could not issue a PoT challenge');
        this.schedule();
      });
    });
  }

  private async issue(): Promise<void> {
    if (this.stopped || this.active !== null) return;
    const { deps } = this;
    const shape = challengeShape(deps.settings, deps.inventory.gpus.length > 0, this.lastGflops);
    const challenge = signCoordinatorMessage(
      { t: 'challenge' as const, id: randomHex(deps.random, 16), seed: randomHex(deps.random, 32), n: shape.n, reps: shape.reps, dtype: 'f16' as const, deadlineMs: deps.settings.deadlineMs },
      deps.key,
    );
    await deps.store.insertChallenge({
      id: challenge.id,
      node: deps.node,
      seed: challenge.seed,
      n: shape.n,
      reps: shape.reps,
      k: shape.k,
      deadlineMs: challenge.deadlineMs,
      sentAt: deps.clock.now(),
      state: 'sent',
    });
    // Stopped while the challenge was being stored: it is never sent.
    if (this.isStopped()) return;
    const active: Active = { challenge, k: shape.k, sentMono: deps.clock.monotonic(), state: 'sent', timer: null };
    this.active = active;
    active.timer = deps.clock.after(challenge.deadlineMs, () => this.expire(active, `no commit within ${challenge.deadlineMs} ms`));
    deps.send(challenge);
    deps.log.info({ challenge: challenge.id, n: shape.n, reps: shape.reps, k: shape.k }, 'PoT challenge sent');
  }

  private expire(a: Active, why: string): void {
    if (this.active !== a || a.state === 'verifying') return;
    this.finish(a, false, `deadline: ${why}`, 'expired').catch((e: unknown) => this.deps.log.error({ err: e }, 'could not record a missed PoT deadline'));
  }

  async onCommit(msg: Commit, arrivedMono: number): Promise<void> {
    const a = this.active;
    if (a === null || a.challenge.id !== msg.id || a.state !== 'sent') {
      this.deps.refuse(`commit for ${msg.id}: no challenge with that id is waiting for a commit`);
      return;
    }
    a.timer?.cancel();
    const { deps } = this;
    if (msg.device !== 'cpu' && !deps.inventory.gpus.some((g) => g.uuid === msg.device)) {
      await this.finish(a, false, `unknown-device: ${msg.device} is not in the inventory this node reported`, 'failed');
      return;
    }
    const checks = chooseChecks(a.challenge.reps, a.challenge.n, a.k, deps.random);
    const rttUs = deps.rtt.medianUs();
    a.commit = { root: msg.root, elapsedUs: msg.elapsedUs, device: msg.device, arrivedMono, checks, rttUs };
    await deps.store.challengeCommitted(msg.id, { root: msg.root, elapsedUs: msg.elapsedUs, device: msg.device, committedAt: deps.clock.now(), checks, rttUs });
    if (this.active !== a) return;
    a.state = 'opened';
    a.timer = deps.clock.after(a.challenge.deadlineMs, () => this.expire(a, `no reveal within ${a.challenge.deadlineMs} ms of open`));
    deps.send({ t: 'open', id: msg.id, checks: checks.map(([r, i]) => [r, i]) });
  }

  async onReveal(msg: Reveal): Promise<void> {
    const a = this.active;
    if (a === null || a.challenge.id !== msg.id || a.state !== 'opened' || a.commit === undefined) {
      this.deps.refuse(`reveal for ${msg.id}: no challenge with that id is waiting for a reveal`);
      return;
    }
    // Answered in time: how long verification takes is the coordinator's business.
    a.timer?.cancel();
    a.state = 'verifying';
    const { n, reps, seed } = a.challenge;
    const commit = a.commit;
    const items = parseRevealItems(msg.items, { n, reps });
    if (!items.ok) {
      await this.finish(a, false, `malformed-reveal: ${items.issues.slice(0, 2).map((i) => `${i.path}: ${i.message}`).join('; ')}`, 'failed');
      return;
    }
    const seedBytes = new Uint8Array(Buffer.from(seed, 'hex'));
    const structure = checkRevealStructure({ seed: seedBytes, n, reps, root: new Uint8Array(Buffer.from(commit.root, 'hex')), checks: commit.checks, reveal: items.value });
    if (!structure.ok) {
      await this.finish(a, false, `pot-invalid: ${structure.code}: ${structure.reason}`, 'failed');
      return;
    }
    let computed: Uint8Array[];
    try {
      computed = await this.deps.analyser.rowDigests(seedBytes, n, structure.plan.checks);
    } catch (e) {
      this.deps.log.error({ err: e, challenge: msg.id }, 'could not recompute PoT rows');
      await this.finish(a, false, 'coordinator-error: the coordinator could not verify this reveal', 'expired', 0, false);
      return;
    }
    const result = compareRowDigests(structure.plan, computed);
    if (!result.ok) {
      await this.finish(a, false, `pot-invalid: ${result.code}: ${result.reason}`, 'failed');
      return;
    }
    const coordinatorUs = (commit.arrivedMono - a.sentMono) * 1000 - commit.rttUs;
    await this.finish(a, true, null, 'verified', verdictGflops({ n, reps }, commit.elapsedUs, coordinatorUs));
  }

  private async finish(a: Active, ok: boolean, reason: string | null, state: Extract<ChallengeState, 'verified' | 'failed' | 'expired'>, gflops = 0, strike = !ok): Promise<void> {
    if (this.active !== a) return;
    this.active = null;
    a.timer?.cancel();
    const { deps } = this;
    const verdict = signCoordinatorMessage({ t: 'verdict' as const, id: a.challenge.id, ok, gflops, reason: reason === null ? null : reason.slice(0, 256) }, deps.key);
    try {
      await deps.store.recordVerdict({
        challenge: verdict.id,
        node: deps.node,
        ok,
        gflops,
        reason: verdict.reason,
        message: canonicalize(verdict),
        at: deps.clock.now(),
        state,
        strike,
      });
      this.lastGflops = ok ? gflops : this.lastGflops;
      deps.send(verdict);
      deps.log.info({ challenge: verdict.id, ok, gflops, reason: verdict.reason }, 'PoT verdict');
    } finally {
      this.schedule();
    }
  }
}
