/**
 * The agent's side of the link (DESIGN §5): one WebSocket session at a time
 * to the pinned coordinator, at-least-once delivery of the journal's backlog,
 * Proof of Throughput answers, and reconnects with full-jitter backoff.
 *
 * Nothing the coordinator sends is trusted: every frame is parsed against its
 * schema, every signed message is checked against the pinned key, and a bad
 * frame ends only that session (the link reconnects after a backoff). The
 * journal is only ever read here, and written through ack/reject: the link
 * never signs anything, so a hostile coordinator cannot make it equivocate.
 */
import WebSocket from 'ws';
import { describeError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import {
  CLOSE,
  MAX_ATT_RECORDS,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  decodeFrame,
  packAttFrames,
  parseCoordinatorMessage,
  signAuth,
  verifyCoordinatorMessage,
  type Beacon,
  type Challenge,
  type CoordinatorMessage,
  type JobUpdate,
  type Welcome,
} from '../../proofs/messages.js';
import { encodeRevealItems } from '../../proofs/pot.js';
import type { KeyPair } from '../../proofs/keys.js';
import { Backoff } from './backoff.js';
import type { InventorySource, LinkEvents, LinkJournal, LinkStatus, PotSolution, PotSolver } from './ports.js';

export interface LinkOptions {
  url: string;
  /** The coordinator's public key, pinned from config. */
  coordinatorKey: string;
  key: KeyPair;
  journal: LinkJournal;
  inventory: InventorySource;
  agentVersion: string;
  solver: PotSolver;
  logger: Logger;
  events?: LinkEvents;
  /** Unacknowledged att frames in flight at once. */
  window?: number;
  /** Most records per att frame (<= 256). */
  frameRecords?: number;
  /** A session is "stable" (backoff resets) after this long connected. */
  stableAfterMs?: number;
  /** No frame and no ping for this long: the connection is dead. */
  silenceMs?: number;
  handshakeTimeoutMs?: number;
  backoff?: Backoff;
  /** Allow an empty journal to continue from the coordinator's head (--adopt-remote-head). */
  adoptRemoteHead?: boolean;
  now?: () => number;
}

type Phase = 'hello' | 'welcome' | 'streaming';

const MAX_PENDING_JOB_UPDATES = 256;

interface Session {
  ws: WebSocket;
  phase: Phase;
  openedAt: number;
  /** Highest seq sent in this session. */
  sentUpTo: number;
  /** Highest seq of each frame in flight, in order. */
  inflight: number[];
  challenge: { msg: Challenge; solution: PotSolution | null; abort: AbortController } | null;
  silenceTimer: NodeJS.Timeout | null;
  handshakeTimer: NodeJS.Timeout | null;
}

export class Link {
  private readonly o: Required<Pick<LinkOptions, 'window' | 'frameRecords' | 'stableAfterMs' | 'silenceMs' | 'handshakeTimeoutMs' | 'adoptRemoteHead'>> & LinkOptions;
  private readonly backoff: Backoff;
  private readonly now: () => number;
  private session: Session | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private status: LinkStatus;
  private beacon: Beacon | null = null;
  /** Job updates not yet handed to a session: the latest per job, sent after the next welcome. */
  private readonly jobOutbox = new Map<string, JobUpdate>();

  constructor(options: LinkOptions) {
    this.o = { window: 4, frameRecords: MAX_ATT_RECORDS, stableAfterMs: 60_000, silenceMs: 75_000, handshakeTimeoutMs: 15_000, adoptRemoteHead: false, ...options };
    this.backoff = options.backoff ?? new Backoff();
    this.now = options.now ?? Date.now;
    this.status = { state: 'connecting', since: this.now(), lastAckAt: null, lastAckSeq: null, lastError: null, nextRetryAt: null, rttMs: null, clockSkewMs: null };
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Closes the session and stops reconnecting. Records not yet acked stay in the journal. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const s = this.session;
    if (s !== null) {
      await new Promise<void>((resolve) => {
        const done = setTimeout(() => {
          s.ws.terminate();
          resolve();
        }, 2_000);
        s.ws.once('close', () => {
          clearTimeout(done);
          resolve();
        });
        s.ws.close(CLOSE.goingAway, 'agent stopping');
      });
    }
    this.setState('stopped', null);
  }

  /** New records were appended: send them if the window allows. */
  notify(): void {
    this.pump();
  }

  /**
   * Tells the coordinator how a job it assigned is going. Sent at once when a
   * session is up; otherwise the latest update per job waits for the next one.
   * The job's usage record travels in the journal, so losing an update loses
   * no pay: the coordinator accepts work from the record.
   */
  sendJob(update: Omit<JobUpdate, 't'>): void {
    const msg: JobUpdate = { t: 'job', ...update };
    const s = this.session;
    if (s?.phase === 'streaming' && s.ws.readyState === WebSocket.OPEN) {
      this.send(s, msg);
      return;
    }
    this.jobOutbox.delete(msg.job);
    this.jobOutbox.set(msg.job, msg);
    // Bounded: the oldest updates go first; the coordinator still learns of finished jobs from their usage records.
    while (this.jobOutbox.size > MAX_PENDING_JOB_UPDATES) {
      const oldest = this.jobOutbox.keys().next();
      if (oldest.done === true) break;
      this.jobOutbox.delete(oldest.value);
    }
  }

  snapshot(): LinkStatus {
    return { ...this.status };
  }

  latestBeacon(): Beacon | null {
    return this.beacon;
  }

  /** True when every record up to the journal head has been acknowledged. */
  drained(): boolean {
    const head = this.o.journal.head();
    return head === null || this.o.journal.watermark() >= head.seq;
  }

  /** Waits (bounded) until the backlog is acknowledged; used on shutdown. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = this.now() + timeoutMs;
    this.pump();
    while (!this.drained() && this.now() < deadline && this.session?.phase === 'streaming') {
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.drained();
  }

  // --------------------------------------------------------------------------

  private setState(state: LinkStatus['state'], error: string | null, nextRetryAt: number | null = null): void {
    if (this.status.state !== state) this.status.since = this.now();
    this.status.state = state;
    if (error !== null) this.status.lastError = error;
    this.status.nextRetryAt = nextRetryAt;
    this.emit(() => this.o.events?.onState?.(this.snapshot()));
  }

  private emit(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.logger.error({ err }, 'link event handler failed');
    }
  }

  private connect(): void {
    if (this.stopped) return;
    this.setState('connecting', null);
    const ws = new WebSocket(this.o.url, { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: this.o.handshakeTimeoutMs, perMessageDeflate: false });
    const session: Session = { ws, phase: 'hello', openedAt: this.now(), sentUpTo: 0, inflight: [], challenge: null, silenceTimer: null, handshakeTimer: null };
    this.session = session;
    session.handshakeTimer = setTimeout(() => this.fail(session, 'the coordinator did not complete the handshake in time', CLOSE.normal), this.o.handshakeTimeoutMs);
    ws.on('open', () => this.touch(session));
    ws.on('ping', () => this.touch(session));
    ws.on('message', (data, isBinary) => {
      this.touch(session);
      if (isBinary) {
        this.fail(session, 'the coordinator sent a binary frame', CLOSE.normal);
        return;
      }
      try {
        this.onFrame(session, Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
      } catch (err) {
        this.o.logger.error({ err }, 'link frame handler failed');
        this.fail(session, `internal error handling a frame: ${describeError(err)}`, CLOSE.internalError);
      }
    });
    ws.on('error', (err) => {
      this.status.lastError = err.message;
    });
    ws.on('close', (code, reason) => this.onClose(session, code, reason.toString('utf8').slice(0, 200)));
  }

  private touch(session: Session): void {
    if (session.silenceTimer !== null) clearTimeout(session.silenceTimer);
    session.silenceTimer = setTimeout(() => {
      this.o.logger.warn({ silenceMs: this.o.silenceMs }, 'coordinator silent: dropping the connection');
      session.ws.terminate();
    }, this.o.silenceMs);
  }

  /** Ends the session because of something the coordinator did; reconnects after a backoff. */
  private fail(session: Session, message: string, code: number): void {
    this.o.logger.warn({ reason: message }, 'closing the link');
    this.status.lastError = message;
    if (session.ws.readyState === WebSocket.OPEN || session.ws.readyState === WebSocket.CONNECTING) {
      try {
        session.ws.close(code, message.slice(0, 120));
      } catch {
        session.ws.terminate();
      }
      // A peer that does not finish the close handshake is cut off.
      setTimeout(() => session.ws.terminate(), 2_000).unref();
    }
  }

  private onClose(session: Session, code: number, reason: string): void {
    if (session.silenceTimer !== null) clearTimeout(session.silenceTimer);
    if (session.handshakeTimer !== null) clearTimeout(session.handshakeTimer);
    session.challenge?.abort.abort();
    if (this.session === session) this.session = null;
    if (this.stopped) return;
    if (this.status.state === 'fork' || this.status.state === 'refused') return;
    if (code === CLOSE.fork) {
      this.setState('fork', `the coordinator closed the link: fork (${reason})`);
      return;
    }
    if (code === CLOSE.banned) {
      this.setState('refused', `the coordinator has banned this node (${reason})`);
      return;
    }
    if (code === CLOSE.authFailed) this.status.lastError = `authentication failed (${reason}): check that this node's key and the coordinator agree`;
    else if (code === CLOSE.alreadyConnected) this.status.lastError = 'the coordinator says this node is already connected (another agent with the same key?)';
    else if (code !== CLOSE.normal && code !== CLOSE.goingAway && reason !== '') this.status.lastError = `closed by the coordinator: ${code} ${reason}`;
    if (this.now() - session.openedAt >= this.o.stableAfterMs && session.phase === 'streaming') this.backoff.reset();
    const delay = this.backoff.next();
    this.setState('backoff', null, this.now() + delay);
    this.o.logger.info({ delayMs: delay, code, reason }, 'link closed; reconnecting after backoff');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  private send(session: Session, msg: object | string): void {
    if (session.ws.readyState !== WebSocket.OPEN) return;
    session.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  private onFrame(session: Session, text: string): void {
    const decoded = decodeFrame(text);
    const parsed = decoded.ok ? parseCoordinatorMessage(decoded.value) : decoded;
    if (!parsed.ok) {
      this.fail(session, `malformed message from the coordinator: ${parsed.problem.message}`, CLOSE.normal);
      return;
    }
    const msg = parsed.value;
    if ('sig' in msg && !verifyCoordinatorMessage(msg, this.o.coordinatorKey)) {
      this.fail(session, `a ${msg.t} message was not signed by the pinned coordinator key ${this.o.coordinatorKey}`, CLOSE.authFailed);
      return;
    }
    if (session.phase === 'hello') {
      if (msg.t !== 'hello') return this.fail(session, `expected hello, got ${msg.t}`, CLOSE.normal);
      return this.onHello(session, msg);
    }
    if (session.phase === 'welcome') {
      if (msg.t !== 'welcome') return this.fail(session, `expected welcome, got ${msg.t}`, CLOSE.normal);
      if (!verifyCoordinatorMessage(msg.beacon, this.o.coordinatorKey)) return this.fail(session, 'the welcome\'s beacon is not signed by the pinned coordinator key', CLOSE.authFailed);
      return this.onWelcome(session, msg);
    }
    this.onStreamingMessage(session, msg);
  }

  private onHello(session: Session, hello: Extract<CoordinatorMessage, { t: 'hello' }>): void {
    if (hello.proto !== PROTOCOL_VERSION) return this.fail(session, `the coordinator speaks protocol ${hello.proto}; this agent speaks ${PROTOCOL_VERSION}: upgrade capanode`, CLOSE.unsupportedProto);
    if (hello.coordinator !== this.o.coordinatorKey) {
      return this.fail(session, `the coordinator identifies as ${hello.coordinator}, not the pinned key ${this.o.coordinatorKey}: check coordinatorKey in the config`, CLOSE.authFailed);
    }
    this.status.clockSkewMs = this.now() - hello.time;
    session.phase = 'welcome';
    this.send(session, {
      t: 'auth',
      node: this.o.key.id,
      sig: signAuth(hello.nonce, hello.coordinator, this.o.key),
      agent: `capanode/${this.o.agentVersion}`,
      inventory: this.o.inventory(),
    });
  }

  private onWelcome(session: Session, welcome: Welcome): void {
    if (session.handshakeTimer !== null) clearTimeout(session.handshakeTimer);
    session.handshakeTimer = null;
    this.acceptBeacon(welcome.beacon);
    const journal = this.o.journal;
    const local = journal.head();
    const remote = welcome.head;
    if (remote !== null) {
      if (local === null || remote.seq > local.seq) {
        if (local === null && this.o.adoptRemoteHead && journal.adoptHead !== undefined) {
          // The operator chose to continue the chain the coordinator holds (the journal was lost).
          journal.adoptHead(remote.seq, remote.hash);
          this.o.logger.warn({ seq: remote.seq, hash: remote.hash }, 'adopted the coordinator\'s head: the journal continues from it');
        } else {
          return this.refuse(
          session,
            `the coordinator holds records up to seq ${remote.seq} for this node, but the local journal ${local === null ? 'is empty' : `ends at seq ${local.seq}`}: restore the journal from backup, or start with --adopt-remote-head to continue from the coordinator's head`,
          );
        }
      }
      const mine = journal.hashAt(remote.seq);
      if (mine !== null && mine !== remote.hash) {
        this.emit(() => this.o.events?.onFork?.({ seq: remote.seq, local: mine, remote: remote.hash }));
        this.setState('fork', `fork at seq ${remote.seq}: the coordinator holds ${remote.hash}, the journal ${mine}; streaming stopped (never re-signed). Investigate before anything else: another agent may be using this key`);
        this.o.logger.error({ seq: remote.seq, local: mine, remote: remote.hash }, 'fork detected: streaming stopped');
        session.ws.close(CLOSE.fork, 'fork');
        return;
      }
      if (remote.seq > journal.watermark()) {
        journal.ack(remote.seq);
        this.noteAck(remote.seq);
      }
    }
    session.phase = 'streaming';
    session.sentUpTo = remote?.seq ?? 0;
    this.setState('connected', null);
    this.o.logger.info({ remoteHead: remote?.seq ?? 0, localHead: local?.seq ?? 0 }, 'link established');
    for (const update of this.jobOutbox.values()) this.send(session, update);
    this.jobOutbox.clear();
    this.pump();
  }

  private refuse(session: Session, message: string): void {
    this.setState('refused', message);
    this.o.logger.error({ reason: message }, 'refusing to stream');
    session.ws.close(CLOSE.normal, 'journal behind coordinator');
  }

  private acceptBeacon(beacon: Beacon): void {
    this.beacon = beacon;
    this.emit(() => this.o.events?.onBeacon?.(beacon));
  }

  private noteAck(seq: number): void {
    this.status.lastAckAt = this.now();
    this.status.lastAckSeq = seq;
  }

  private pump(): void {
    const s = this.session;
    if (s === null || s.phase !== 'streaming') return;
    while (s.inflight.length < this.o.window) {
      const rows = this.o.journal.backlog(s.sentUpTo, this.o.frameRecords);
      if (rows.length === 0) return;
      // A frame holds at most frameRecords records and MAX_FRAME_BYTES bytes; records are
      // bounded by their schema, so halving the batch always ends in a frame that fits.
      let take = rows.length;
      let frames = packAttFrames(rows.slice(0, take).map((r) => r.line), { records: this.o.frameRecords });
      while (frames.length > 1 && take > 1) {
        take = Math.ceil(take / 2);
        frames = packAttFrames(rows.slice(0, take).map((r) => r.line), { records: this.o.frameRecords });
      }
      const frame = frames[0];
      const last = rows[take - 1];
      if (frame === undefined || last === undefined) return;
      this.send(s, frame);
      s.sentUpTo = last.seq;
      s.inflight.push(last.seq);
    }
  }

  private onStreamingMessage(session: Session, msg: CoordinatorMessage): void {
    switch (msg.t) {
      case 'ack': {
        const head = this.o.journal.head();
        if (head === null || msg.seq > head.seq) return this.fail(session, `the coordinator acknowledged seq ${msg.seq}, beyond the journal head ${head?.seq ?? 0}`, CLOSE.normal);
        if (msg.seq > this.o.journal.watermark()) this.o.journal.ack(msg.seq);
        this.noteAck(msg.seq);
        while (session.inflight.length > 0 && (session.inflight[0] ?? 0) <= msg.seq) session.inflight.shift();
        this.pump();
        return;
      }
      case 'nack': {
        this.o.logger.warn({ remote: { seq: msg.seq, code: msg.code, message: msg.message, expected: msg.expected } }, 'coordinator rejected a record');
        if (msg.code === 'seq-gap' || msg.code === 'store-unavailable' || msg.code === 'clock-skew') {
          // Transient or ordering: resend from what the coordinator expects.
          if (msg.code === 'clock-skew') this.status.lastError = `the coordinator says this machine's clock is ahead: ${msg.message}`;
          session.inflight = [];
          session.sentUpTo = Math.max(this.o.journal.watermark(), msg.expected - 1);
          if (msg.code === 'seq-gap') this.pump();
          else setTimeout(() => this.pump(), 1_000).unref();
          return;
        }
        if (msg.code === 'equivocation') {
          this.setState('fork', `the coordinator holds a different record for seq ${msg.seq ?? '?'}: ${msg.message}`);
          session.ws.close(CLOSE.fork, 'equivocation');
          return;
        }
        if (msg.seq !== null) {
          this.o.journal.reject(msg.seq, msg.code, msg.message);
          this.emit(() => this.o.events?.onRejected?.(msg.seq ?? 0, msg.code, msg.message));
        }
        this.status.lastError = `record ${msg.seq ?? '?'} rejected: ${msg.code}: ${msg.message}`;
        return;
      }
      case 'beacon':
        this.acceptBeacon(msg);
        return;
      case 'challenge':
        this.onChallenge(session, msg);
        return;
      case 'open':
        this.onOpen(session, msg.id, msg.checks);
        return;
      case 'verdict': {
        const c = session.challenge;
        if (c?.msg.id !== msg.id) return;
        session.challenge = null;
        if (c.solution === null) {
          // The coordinator gave up on it (a missed deadline) while it was still being computed: a commit
          // now would be refused, and holding the slot would make this session ignore every later challenge.
          c.abort.abort();
          this.o.logger.warn({ remote: { id: msg.id, ok: msg.ok, reason: msg.reason } }, 'verdict for a PoT challenge still being computed: abandoned');
          this.emit(() => this.o.events?.onVerdict?.(msg, c.msg, null));
          return;
        }
        const { root, elapsedUs, device } = c.solution;
        this.emit(() => this.o.events?.onVerdict?.(msg, c.msg, { root, elapsedUs, device }));
        return;
      }
      case 'assign':
        this.emit(() => this.o.events?.onAssign?.(msg));
        return;
      case 'cancel':
        this.emit(() => this.o.events?.onCancel?.(msg));
        return;
      case 'receipt':
        this.emit(() => this.o.events?.onReceipt?.(msg));
        return;
      case 'claim-refused':
        // The claim record is stored and acknowledged like any other; only its payment was refused.
        this.o.logger.warn({ remote: { claimSeq: msg.claimSeq, code: msg.code, message: msg.message } }, 'the coordinator refused a claim');
        this.emit(() => this.o.events?.onClaimRefused?.(msg));
        return;
      case 'account':
        this.emit(() => this.o.events?.onAccount?.(msg));
        return;
      case 'hello':
      case 'welcome':
        this.fail(session, `unexpected ${msg.t} during the session`, CLOSE.normal);
        return;
    }
  }

  private onChallenge(session: Session, challenge: Challenge): void {
    if (session.challenge !== null) {
      // One at a time: a second challenge while one runs would halve both timings.
      this.o.logger.warn({ remote: { id: challenge.id } }, 'ignoring a challenge while another runs');
      return;
    }
    const abort = new AbortController();
    const entry: Session['challenge'] = { msg: challenge, solution: null, abort };
    session.challenge = entry;
    this.o.logger.info({ remote: { id: challenge.id, n: challenge.n, reps: challenge.reps } }, 'PoT challenge');
    this.o.solver.solve(challenge, abort.signal).then(
      (solution) => {
        if (session.challenge !== entry || abort.signal.aborted) return;
        entry.solution = solution;
        this.send(session, { t: 'commit', id: challenge.id, root: solution.root, elapsedUs: Math.max(1, Math.round(solution.elapsedUs)), device: solution.device });
      },
      (err: unknown) => {
        if (session.challenge === entry) session.challenge = null;
        this.o.logger.warn({ err: describeError(err), remote: { id: challenge.id } }, 'could not answer the PoT challenge');
      },
    );
  }

  private onOpen(session: Session, id: string, checks: readonly (readonly [number, number])[]): void {
    const c = session.challenge;
    if (c?.msg.id !== id || c.solution === null) {
      this.o.logger.warn({ remote: { id } }, 'open for no committed challenge');
      return;
    }
    for (const [r, i] of checks) {
      if (r >= c.msg.reps || i >= c.msg.n) return this.fail(session, `open asks for row (${r}, ${i}) outside the challenge (${c.msg.reps} reps of ${c.msg.n})`, CLOSE.normal);
    }
    Promise.resolve(c.solution.reveal(checks)).then(
      (items) => {
        if (session.challenge === c) this.send(session, { t: 'reveal', id, items: encodeRevealItems(items) });
      },
      (err: unknown) => this.o.logger.warn({ err: describeError(err), remote: { id } }, 'could not build the PoT reveal'),
    );
  }
}
