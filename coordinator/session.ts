/**
 * One WebSocket connection, as a state machine:
 *
 *   hello sent --auth--> authenticating --welcome--> streaming --> closed
 *
 * Before the welcome, exactly one message is allowed: a valid auth. After
 * it, every frame is analysed as it arrives (inline or in the worker pool)
 * but handled strictly in arrival order, one at a time, so records are taken
 * in order and acks are cumulative. Nothing a peer sends can throw out of
 * here: a handler failure closes this connection with 1011 and is logged.
 */
import type { RawData, WebSocket } from 'ws';
import type { Logger } from '../common/log.js';
import type { KeyPair } from '../proofs/keys.js';
import {
  CLOSE,
  decodeFrame,
  parseAgentMessage,
  PROTOCOL_VERSION,
  signCoordinatorMessage,
  verifyAuth,
  type Assign,
  type Beacon,
  type Cancel,
  type CloseCode,
  type NackCode,
} from '../proofs/messages.js';
import type { Analyser } from './analyser.js';
import type { Beacons } from './beacons.js';
import { randomHex, type Clock, type RandomBytes, type TimerHandle } from './clock.js';
import type { Committer } from './committer.js';
import type { CoordinatorConfig } from './config.js';
import type { FrameAnalysis, ItemResult } from './frame.js';
import type { JobDispatcher } from './jobs/index.js';
import type { Ledger } from './ledger/index.js';
import { NodeIngest } from './ingest.js';
import { Challenger, type ChallengeSchedule } from './pot/challenger.js';
import type { NodeRateLimiter } from './rate-limit.js';
import { RttTracker } from './rtt.js';
import type { Store } from './store/types.js';

/** A peer that stops reading is cut off once this much is waiting to be sent to it. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export interface SessionRegistry {
  /** Registers the session as the node's only one; false when the node already has one. */
  claim(node: string, session: Session): boolean;
  release(node: string, session: Session): void;
}

export interface SessionDeps {
  key: KeyPair;
  store: Store;
  committer: Committer;
  analyser: Analyser;
  beacons: Beacons;
  clock: Clock;
  random: RandomBytes;
  config: CoordinatorConfig;
  limiter: NodeRateLimiter;
  registry: SessionRegistry;
  /** The process's PoT challenge rounds (pot/rounds.ts), which each session's challenger joins. */
  potSchedule: ChallengeSchedule;
  /** Accounts and claim decisions. */
  ledger: Ledger;
  /** Assigned jobs: their updates and usage records. */
  jobs: JobDispatcher;
  /** This process's session leases (one session per node across processes sharing the store); owner is set when it listens. */
  lease: { owner: string; ms: number };
  log: Logger;
}

type State = 'hello' | 'authenticating' | 'streaming' | 'closed';
type Analysed = { ok: true; value: FrameAnalysis } | { ok: false; error: unknown };

/** A close reason: printable ASCII only (remote text may be in it), at most the 123 bytes a close frame holds. */
export function closeReason(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 123);
}

export class Session {
  private state: State = 'hello';
  private nodeId: string | null = null;
  private readonly nonce: string;
  private readonly log: Logger;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private ingest: NodeIngest | null = null;
  private challenger: Challenger | null = null;
  private readonly rtt = new RttTracker();
  private authTimer: TimerHandle | null = null;
  private pingTimer: TimerHandle | null = null;
  private readonly pings = new Map<string, number>();
  private awaitingPong = false;
  private tornDown = false;
  private closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  constructor(
    private readonly ws: WebSocket,
    readonly remote: string,
    private readonly deps: SessionDeps,
  ) {
    this.nonce = randomHex(deps.random, 16);
    this.log = deps.log.child({ peer: remote });
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  get node(): string | null {
    return this.nodeId;
  }

  /** Resolves once the connection is closed and the session's work is done. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  start(): void {
    this.ws.on('message', (data, isBinary) => this.guard(() => this.onMessage(data, isBinary)));
    this.ws.on('pong', (data) => this.guard(() => this.onPong(data)));
    this.ws.on('close', (code) => this.guard(() => this.onClose(code)));
    this.ws.on('error', (e) => this.log.debug({ err: e }, 'connection error'));
    const hello = signCoordinatorMessage({ t: 'hello' as const, proto: PROTOCOL_VERSION, coordinator: this.deps.key.id, nonce: this.nonce, time: this.deps.clock.now() }, this.deps.key);
    this.send(hello);
    this.authTimer = this.deps.clock.after(this.deps.config.authTimeoutMs, () => {
      if (this.state === 'hello') this.close(CLOSE.authFailed, 'auth timeout');
    });
  }

  /** Closes the connection with a code and a short reason. */
  close(code: CloseCode | 1013, reason: string): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, closeReason(reason));
  }

  /** Drops the connection without a closing handshake. */
  terminate(): void {
    this.ws.terminate();
  }

  sendBeacon(beacon: Beacon): void {
    if (this.state === 'streaming') this.send(beacon);
  }

  /** Sends the node its account as of now (after an epoch close), in order with everything else sent. */
  sendAccount(): void {
    if (this.state === 'streaming') this.enqueue(() => this.pushAccount());
  }

  /** Sends a signed job message (assign, cancel); false when the session is not streaming. */
  sendJobMessage(message: Assign | Cancel): boolean {
    if (this.state !== 'streaming' || !this.isOpen()) return false;
    this.send(message);
    return true;
  }

  /** Issues a PoT challenge at once (operators and tests); false when one is already in progress. */
  challengeNow(): Promise<boolean> {
    return this.challenger === null ? Promise.resolve(false) : this.challenger.challengeNow();
  }

  /** Read through a call: the socket changes state across awaits. */
  private isOpen(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    this.log.error({ err: e, node: this.nodeId }, 'session handler failed; closing this connection');
    this.close(CLOSE.internalError, 'internal error');
  }

  private enqueue(fn: () => Promise<void>): void {
    this.queued += 1;
    this.queue = this.queue
      .then(fn)
      .catch((e: unknown) => this.fail(e))
      .finally(() => (this.queued -= 1));
  }

  private send(message: object): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.log.warn({ node: this.nodeId }, 'peer is not reading; terminating');
      this.ws.terminate();
      return;
    }
    this.ws.send(JSON.stringify(message));
  }

  private nack(seq: number | null, code: NackCode, message: string): void {
    this.send({ t: 'nack', seq, code, message: message.slice(0, 512), expected: this.ingest?.expected ?? 1 });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.state === 'closed') return;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (this.state === 'hello') {
      this.state = 'authenticating';
      this.authTimer?.cancel();
      this.enqueue(() => this.authenticate(bytes, isBinary));
      return;
    }
    if (this.state === 'authenticating') {
      this.close(CLOSE.authFailed, 'message before welcome');
      return;
    }
    const node = this.nodeId as string;
    const arrived = { wall: this.deps.clock.now(), mono: this.deps.clock.monotonic() };
    if (!this.deps.limiter.allow(node, bytes.length, arrived.mono)) {
      this.log.warn({ node }, 'rate limit exceeded; closing');
      this.close(CLOSE.rateLimited, 'rate limited');
      this.state = 'closed';
      return;
    }
    if (this.queued >= this.deps.config.maxQueuedFrames) {
      this.log.warn({ node, queued: this.queued }, 'too many frames in flight; closing');
      this.close(CLOSE.rateLimited, `more than ${this.deps.config.maxQueuedFrames} frames in flight`);
      this.state = 'closed';
      return;
    }
    // Analysis starts now, in parallel with earlier frames; it is handled in order. Never a rejected promise left unhandled.
    const analysed: Promise<Analysed> = isBinary
      ? Promise.resolve({ ok: true, value: { kind: 'bad', message: 'binary frames are not part of the protocol; send JSON text' } })
      : this.deps.analyser.analyse(bytes).then(
          (value): Analysed => ({ ok: true, value }),
          (error: unknown): Analysed => ({ ok: false, error }),
        );
    this.enqueue(async () => {
      const a = await analysed;
      if (!a.ok) throw a.error;
      if (this.state !== 'streaming') return;
      await this.handle(a.value, arrived);
    });
  }

  private async authenticate(bytes: Buffer, isBinary: boolean): Promise<void> {
    const { deps } = this;
    const decoded = isBinary ? null : decodeFrame(bytes.toString('utf8'));
    const parsed = decoded?.ok === true ? parseAgentMessage(decoded.value) : null;
    if (parsed === null || !parsed.ok || parsed.value.t !== 'auth') {
      const why = parsed === null ? (isBinary ? 'a binary frame' : 'not JSON') : parsed.ok ? `a ${parsed.value.t} message` : parsed.problem.message;
      this.log.info({ remote: { why: why.slice(0, 200) } }, 'handshake refused');
      this.close(CLOSE.authFailed, `expected auth, got ${why}`);
      return;
    }
    const auth = parsed.value;
    if (!verifyAuth(this.nonce, deps.key.id, auth.node, auth.sig)) {
      this.log.info({ remote: { node: auth.node } }, 'auth signature does not verify');
      this.close(CLOSE.authFailed, 'auth signature does not verify for this nonce and coordinator');
      return;
    }
    const known = await deps.store.getNode(auth.node);
    if (known?.banned === true) {
      this.close(CLOSE.banned, `banned: ${known.banReason ?? 'proven fraud'}`);
      return;
    }
    if (!this.isOpen()) return;
    if (!deps.registry.claim(auth.node, this)) {
      this.log.info({ node: auth.node }, 'second connection for a connected node refused');
      this.close(CLOSE.alreadyConnected, 'node already connected');
      return;
    }
    // Across processes sharing the store: another coordinator may hold this node's session.
    if (!(await deps.store.claimSession(auth.node, deps.lease.owner, deps.clock.now(), deps.lease.ms))) {
      deps.registry.release(auth.node, this);
      this.log.info({ node: auth.node }, 'node connected to another coordinator process; refused');
      this.close(CLOSE.alreadyConnected, 'node already connected to another coordinator');
      return;
    }
    this.nodeId = auth.node;
    const info = await deps.store.nodeConnected(auth.node, { agent: auth.agent, inventory: auth.inventory, at: deps.clock.now() });
    // Closed meanwhile: onClose has queued the teardown behind this handler.
    if (!this.isOpen()) return;
    this.ingest = new NodeIngest(auth.node, { seq: info.headSeq, hash: info.headHash }, deps.store, deps.committer);
    this.challenger = new Challenger({
      node: auth.node,
      schedule: deps.potSchedule,
      inventory: auth.inventory,
      lastGflops: info.gflops,
      key: deps.key,
      store: deps.store,
      clock: deps.clock,
      random: deps.random,
      analyser: deps.analyser,
      rtt: this.rtt,
      settings: {
        enabled: deps.config.potEnabled,
        minIntervalMs: deps.config.challengeMinIntervalMs,
        maxIntervalMs: deps.config.challengeMaxIntervalMs,
        n: deps.config.potN,
        cpuN: deps.config.potCpuN,
        reps: deps.config.potReps,
        targetSeconds: deps.config.potTargetSeconds,
        gpuGflops: deps.config.potGpuGflops,
        cpuGflops: deps.config.potCpuGflops,
        k: deps.config.potK,
        deadlineMs: deps.config.potDeadlineMs,
        marginPercent: deps.config.potMarginPercent,
      },
      log: this.log.child({ node: auth.node, component: 'pot' }),
      send: (m) => this.send(m),
      refuse: (message) => this.nack(null, 'unexpected-message', message),
    });
    this.send({
      t: 'welcome',
      head: info.headSeq > 0 && info.headHash !== null ? { seq: info.headSeq, hash: info.headHash } : null,
      beacon: deps.beacons.current(),
      time: deps.clock.now(),
    });
    this.state = 'streaming';
    this.log.info({ node: auth.node, head: info.headSeq, remote: { agent: auth.agent, gpus: auth.inventory.gpus.length } }, 'node connected');
    this.ping();
    this.challenger.start();
    deps.jobs.nudge();
    // The account, and the decision on the latest claim again: a receipt lost to a disconnect still arrives.
    this.enqueue(async () => {
      await deps.ledger.decideUndecided(auth.node);
      await this.pushAccount();
      const last = await deps.ledger.lastClaimMessage(auth.node);
      if (last !== null) this.send(last);
    });
  }

  private async pushAccount(): Promise<void> {
    const node = this.nodeId;
    if (node === null || this.state !== 'streaming') return;
    this.send(await this.deps.ledger.account(node));
  }

  /** After a frame is stored: decides (or finds the decision on) each claim record it carried, and sends it; then the account if anything changed. */
  private async settleClaims(items: readonly ItemResult[], storedUpTo: number): Promise<void> {
    const node = this.nodeId as string;
    let changed = false;
    for (const item of items) {
      if (!item.ok || item.record.kind !== 'claim' || item.record.node !== node || item.record.seq > storedUpTo) continue;
      let decision;
      try {
        decision = await this.deps.ledger.decideClaim(node, item.record.seq, item.record.hash);
      } catch (e) {
        // The record is stored and acknowledged: it is decided when the node next connects.
        this.log.error({ err: e, node, seq: item.record.seq }, 'could not decide a claim; it is decided at the next connection');
        continue;
      }
      if (decision === null) continue;
      this.send(decision.message);
      changed ||= decision.fresh;
    }
    if (changed) await this.pushAccount();
  }

  private async handle(a: FrameAnalysis, arrived: { wall: number; mono: number }): Promise<void> {
    switch (a.kind) {
      case 'bad':
        this.nack(null, 'bad-message', a.message);
        return;
      case 'too-many-records':
        this.close(CLOSE.tooBig, `att frame with ${a.count} records; at most 256`);
        return;
      case 'message': {
        const m = a.message;
        if (m.t === 'commit') await this.challenger?.onCommit(m, arrived.mono);
        else if (m.t === 'reveal') await this.challenger?.onReveal(m);
        else if (m.t === 'auth') this.nack(null, 'unexpected-message', 'already authenticated');
        else if (!(await this.deps.jobs.onUpdate(this.nodeId as string, m))) this.nack(null, 'unexpected-message', `job ${m.job}: no job with that id was assigned to this node`);
        return;
      }
      case 'att': {
        const ingest = this.ingest as NodeIngest;
        const out = await ingest.ingest(a.items, arrived.wall);
        if (out.ack !== null) this.send({ t: 'ack', seq: out.ack });
        if (out.nack !== null) this.nack(out.nack.seq, out.nack.code, out.nack.message);
        if (out.ack !== null) await this.settleClaims(a.items, out.ack);
        if (out.ack !== null) await this.deps.jobs.settleUsage(this.nodeId as string, a.items, out.ack);
        if (out.equivocation) {
          this.log.error({ node: this.nodeId, seq: out.nack?.seq }, 'equivocation proven: node banned');
          this.close(CLOSE.fork, 'equivocation: two records for one seq; node banned');
          this.state = 'closed';
        }
        return;
      }
    }
  }

  private ping(): void {
    if (this.state !== 'streaming' || !this.isOpen()) return;
    if (this.awaitingPong) {
      this.log.warn({ node: this.nodeId }, 'no pong since the last ping; terminating');
      this.ws.terminate();
      return;
    }
    const payload = randomHex(this.deps.random, 8);
    this.pings.clear();
    this.pings.set(payload, this.deps.clock.monotonic());
    this.awaitingPong = true;
    this.ws.ping(Buffer.from(payload, 'hex'));
    this.pingTimer = this.deps.clock.after(this.deps.config.pingIntervalMs, () => this.guard(() => this.ping()));
  }

  private onPong(data: Buffer): void {
    const sent = this.pings.get(data.toString('hex'));
    if (sent === undefined) return;
    this.pings.clear();
    this.awaitingPong = false;
    this.rtt.add(this.deps.clock.monotonic() - sent);
  }

  private onClose(code: number): void {
    const was = this.state;
    this.state = 'closed';
    this.authTimer?.cancel();
    this.pingTimer?.cancel();
    if (was === 'streaming' || this.nodeId !== null) this.log.info({ node: this.nodeId, code }, 'node disconnected');
    // Work already queued finishes first (a commit in flight is still acked into the void, harmlessly).
    this.queue = this.queue.then(() => this.teardown()).catch((e: unknown) => this.log.error({ err: e }, 'session teardown failed'));
    void this.queue.finally(() => this.resolveClosed());
  }

  private async teardown(): Promise<void> {
    const node = this.nodeId;
    if (node === null || this.tornDown) return;
    this.tornDown = true;
    await this.challenger?.stop();
    this.challenger = null;
    this.deps.registry.release(node, this);
    await this.deps.store.nodeDisconnected(node, this.deps.clock.now());
    await this.deps.store.releaseSession(node, this.deps.lease.owner);
  }
}
