/**
 * Proof of Throughput for one connected node (DESIGN §6): a signed
 * challenge; on the commit, checks drawn from a CSPRNG (never before: a node
 * must not know which rows will be checked while it still could grind its
 * root); on the reveal, the checked rows recomputed and a signed verdict.
 * Each step is stored before the message that depends on it leaves.
 *
 * The schedule's challenges come in rounds (rounds.ts): at random times
 * only the coordinator can compute, every connected node at once, with the
 * same window (window.ts). A round's verdict's gflops is the work it proved
 * inside the window over the window, so identities sharing a GPU are
 * credited at most the GPU together: a correct commit that arrives after the
 * window passes with 0 (it sizes the next challenge). No commit within
 * potDeadlineMs is a missed deadline, a failure with reason `deadline`
 * (rewards do not slash it).
 *
 * An operator's challengeNow is a solo challenge outside the rounds, credited
 * as DESIGN §6 states: 2·n³·reps over the longer of the node's own elapsedUs
 * and the coordinator's clock from sending the challenge to receiving the
 * commit less the median ping round trip.
 */
import type { Logger } from '../../common/log.js';
import { canonicalize } from '../../proofs/canonical.js';
import type { KeyPair } from '../../proofs/keys.js';
import { signCoordinatorMessage, type Challenge, type Commit, type Inventory, type Reveal, type Verdict } from '../../proofs/messages.js';
import { checkRevealStructure, chooseChecks, compareRowDigests, parseRevealItems, POT_MAX_REPS, type PotCheck } from '../../proofs/pot.js';
import type { Analyser } from '../analyser.js';
import { randomHex, type Clock, type RandomBytes, type TimerHandle } from '../clock.js';
import type { RttTracker } from '../rtt.js';
import type { ChallengeState, Store } from '../store/types.js';
import type { ChallengeSchedule, RoundMember } from './rounds.js';
import type { Round } from './schedule.js';
import { initialBasis, inWindow, measuredGflops, nextBasis, roundCredit, roundReps, type Basis, type WindowSettings } from './window.js';

export type { ChallengeSchedule } from './rounds.js';

export interface PotSettings {
  enabled: boolean;
  /** A node never verified joins the rounds this long after it connects (time to warm up; it has no capacity to lose). */
  minIntervalMs: number;
  maxIntervalMs: number;
  n: number;
  cpuN: number;
  reps: number | null;
  targetSeconds: number;
  gpuGflops: number;
  cpuGflops: number;
  k: number;
  /** Time allowed for the commit after the challenge (a round's is credited only inside its window), and for the reveal after open. */
  deadlineMs: number;
  /** Part of a round's window its challenge leaves free (window.ts). */
  marginPercent: number;
}

/** A round's window: potTargetSeconds, or potDeadlineMs if that is shorter. */
export function roundWindow(settings: PotSettings): WindowSettings {
  return { windowMs: Math.min(settings.targetSeconds * 1000, settings.deadlineMs), marginPercent: settings.marginPercent };
}

export interface ChallengerDeps {
  node: string;
  /** The rounds this process runs. */
  schedule: ChallengeSchedule;
  inventory: Inventory;
  /** The node's last verdict's gflops (null or 0: never verified; it is probed below its class's expected figure). */
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

/** Stable prefixes of a verdict's reason: a failure's, or `late` for a passed round verdict credited 0. */
export type VerdictReasonCode = 'deadline' | 'malformed-reveal' | 'unknown-device' | 'pot-invalid' | 'coordinator-error' | 'late';

interface Active {
  challenge: Challenge;
  /** A round's challenge (credited over its window) or an operator's solo one (credited over the time taken). */
  kind: 'round' | 'solo';
  k: number;
  /** The median round trip a round's challenge was sized with (µs). */
  sizedRttUs: number;
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
/** n, reps and k for an operator's solo challenge: reps so the expected device needs about targetSeconds. */
export function challengeShape(settings: PotSettings, hasGpu: boolean, lastGflops: number | null): ChallengeShape {
  const n = hasGpu ? settings.n : settings.cpuN;
  const gflops = lastGflops !== null && lastGflops > 0 ? lastGflops : classGflops(settings, hasGpu);
  const reps = settings.reps ?? Math.min(POT_MAX_REPS, Math.max(1, Math.round((settings.targetSeconds * gflops * 1e9) / (2 * n ** 3))));
  return { n, reps, k: Math.min(settings.k, reps * n) };
}

/** n, reps and k for a round's challenge: reps so the node's basis fills the window less the margin and its round trip. */
export function roundShape(settings: PotSettings, hasGpu: boolean, basis: Basis, rttUs: number): ChallengeShape {
  const n = hasGpu ? settings.n : settings.cpuN;
  const reps = settings.reps ?? roundReps(n, basis, roundWindow(settings), rttUs);
  return { n, reps, k: Math.min(settings.k, reps * n) };
}

function classGflops(settings: PotSettings, hasGpu: boolean): number {
  return hasGpu ? settings.gpuGflops : settings.cpuGflops;
}

/** GFLOP/s a solo verdict grants: the work over the longer of the node's and the coordinator's timing. */
export function verdictGflops(shape: { n: number; reps: number }, elapsedUs: number, coordinatorUs: number): number {
  return Math.floor(measuredGflops(shape.n, shape.reps, elapsedUs, coordinatorUs));
}

export class Challenger implements RoundMember {
  private active: Active | null = null;
  private stopped = false;
  private joined = false;
  private lastGflops: number | null;
  private basis: Basis;
  /** A node never verified takes part in rounds from this monotonic instant. */
  private readonly eligibleMono: number;

  constructor(private readonly deps: ChallengerDeps) {
    this.lastGflops = deps.lastGflops;
    this.basis = initialBasis(deps.lastGflops, classGflops(deps.settings, deps.inventory.gpus.length > 0));
    this.eligibleMono = deps.clock.monotonic() + (this.basis.measured ? 0 : deps.settings.minIntervalMs);
  }

  get node(): string {
    return this.deps.node;
  }

  /** Takes part in the process's challenge rounds from now on. */
  start(): void {
    if (!this.deps.settings.enabled || this.stopped) return;
    this.joined = true;
    this.deps.schedule.join(this);
  }

  /** The session ended: no more challenges; one in progress fails as missed (no slash). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.joined) this.deps.schedule.leave(this);
    const a = this.active;
    if (a !== null && a.state !== 'verifying') {
      a.timer?.cancel();
      await this.finish(a, false, 'deadline: the node disconnected before answering', 'expired');
    }
  }

  /** Issues an operator's solo challenge now unless one is in progress; false when one is. */
  async challengeNow(): Promise<boolean> {
    if (this.stopped || this.active !== null) return false;
    const { deps } = this;
    const shape = challengeShape(deps.settings, deps.inventory.gpus.length > 0, this.lastGflops);
    const send = await this.store('solo', shape, deps.settings.deadlineMs, deps.rtt.medianUs());
    if (send === null) return false;
    send(deps.clock.monotonic());
    return true;
  }

  /** This node's challenge for a round (rounds.ts): null when it sits the round out. */
  async prepare(round: Round): Promise<((startMono: number) => void) | null> {
    const { deps } = this;
    if (this.stopped || this.active !== null || deps.clock.monotonic() < this.eligibleMono) return null;
    const rttUs = deps.rtt.medianUs();
    const shape = roundShape(deps.settings, deps.inventory.gpus.length > 0, this.basis, rttUs);
    const send = await this.store('round', shape, deps.settings.deadlineMs, rttUs);
    if (send !== null) deps.log.debug({ round: `${round.era}.${round.index}` }, 'round challenge stored');
    return send;
  }

  /** Read through a call: stop() may run across an await. */
  private isStopped(): boolean {
    return this.stopped;
  }

  /** Signs and stores a challenge; returns the function that sends it and starts its clock, or null when it must not go out. */
  private async store(kind: Active['kind'], shape: ChallengeShape, deadlineMs: number, sizedRttUs: number): Promise<((startMono: number) => void) | null> {
    const { deps } = this;
    const challenge = signCoordinatorMessage(
      { t: 'challenge' as const, id: randomHex(deps.random, 16), seed: randomHex(deps.random, 32), n: shape.n, reps: shape.reps, dtype: 'f16' as const, deadlineMs },
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
    // Stopped, or challenged otherwise, while the challenge was being stored: it is never sent.
    if (this.isStopped() || this.active !== null) return null;
    const active: Active = { challenge, kind, k: shape.k, sizedRttUs, sentMono: deps.clock.monotonic(), state: 'sent', timer: null };
    this.active = active;
    return (startMono) => {
      if (this.active !== active) return;
      active.sentMono = startMono;
      active.timer = deps.clock.after(challenge.deadlineMs, () => this.expire(active, `no commit within ${challenge.deadlineMs} ms`));
      deps.send(challenge);
      deps.log.info({ challenge: challenge.id, kind, n: shape.n, reps: shape.reps, k: shape.k, deadlineMs }, 'PoT challenge sent');
    };
  }

  private expire(a: Active, why: string): void {
    if (this.active !== a || a.state === 'verifying') return;
    if (a.kind === 'round' && a.state === 'sent') this.basis = nextBasis(this.basis, null, roundWindow(this.deps.settings));
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
    const rttUs = deps.rtt.medianUs();
    const checks = chooseChecks(a.challenge.reps, a.challenge.n, a.k, deps.random);
    a.commit = { root: msg.root, elapsedUs: msg.elapsedUs, device: msg.device, arrivedMono, checks, rttUs };
    await deps.store.challengeCommitted(msg.id, { root: msg.root, elapsedUs: msg.elapsedUs, device: msg.device, committedAt: deps.clock.now(), checks, rttUs });
    if (this.active !== a) return;
    a.state = 'opened';
    a.timer = deps.clock.after(deps.settings.deadlineMs, () => this.expire(a, `no reveal within ${deps.settings.deadlineMs} ms of open`));
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
    if (a.kind === 'solo') {
      await this.finish(a, true, null, 'verified', verdictGflops({ n, reps }, commit.elapsedUs, coordinatorUs));
      return;
    }
    const window = roundWindow(this.deps.settings);
    const sized = this.basis;
    this.basis = nextBasis(sized, { gflops: measuredGflops(n, reps, commit.elapsedUs, coordinatorUs), coordinatorUs, rttUs: a.sizedRttUs }, window);
    const afterMs = commit.arrivedMono - a.sentMono;
    if (!inWindow(afterMs, window)) {
      await this.finish(a, true, `late: commit ${Math.round(afterMs)} ms after the challenge, after the round's ${window.windowMs} ms window: no work inside it`, 'verified', 0);
      return;
    }
    await this.finish(a, true, null, 'verified', roundCredit(n, reps, commit.elapsedUs, sized, this.basis, window, a.sizedRttUs));
  }

  private async finish(a: Active, ok: boolean, reason: string | null, state: Extract<ChallengeState, 'verified' | 'failed' | 'expired'>, gflops = 0, strike = !ok): Promise<void> {
    if (this.active !== a) return;
    this.active = null;
    a.timer?.cancel();
    const { deps } = this;
    const verdict = signCoordinatorMessage({ t: 'verdict' as const, id: a.challenge.id, ok, gflops, reason: reason === null ? null : reason.slice(0, 256) }, deps.key);
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
    deps.log.info({ challenge: verdict.id, kind: a.kind, ok, gflops, reason: verdict.reason }, 'PoT verdict');
  }
}
