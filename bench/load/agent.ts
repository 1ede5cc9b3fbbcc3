/**
 * One simulated agent, as light as it can be while staying a real client of
 * the link protocol (DESIGN §5): its own Ed25519 key, the signed hello
 * checked against the pinned coordinator key, a signed auth, then one signed
 * uptime record every interval citing the latest verified beacon, each sent
 * in its own att frame and timed until the ack that covers it. It answers
 * nothing else. Records not yet acknowledged (normally none or one) are kept
 * and sent again after a reconnect, from the head the welcome names, as a
 * real agent resends from its journal.
 *
 * Per-agent state is a handful of fields; what agents of one coordinator
 * share (its key, its beacons) lives in CoordinatorState.
 */
import { generateKeyPairSync } from 'node:crypto';
import WebSocket from 'ws';
import { signEnvelope, ZERO_HASH, type Envelope } from '../../proofs/envelope.js';
import type { KeyPair } from '../../proofs/keys.js';
import { attFrame, decodeFrame, MAX_FRAME_BYTES, parseCoordinatorMessage, signAuth, verifyCoordinatorMessage, type Beacon } from '../../proofs/messages.js';
import type { Histogram } from './histogram.js';

/** Records an agent keeps unacknowledged before it skips ticks (one full att frame). */
const MAX_BACKLOG = 256;
const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;
/** Beacon ids whose signature was checked, per coordinator: every agent gets the same broadcast. */
const VERIFIED_BEACONS_KEPT = 8;

/** What the agents connected to one coordinator share. */
export class CoordinatorState {
  /** The latest verified beacon's id and time: what uptime records cite. */
  beacon: string | null = null;
  private beaconTime = 0;
  private readonly verified: string[] = [];

  constructor(
    readonly index: number,
    readonly url: string,
    readonly id: string,
  ) {}

  /** Checks a beacon's signature once per beacon id; false when it is not signed by this coordinator. */
  accept(b: Beacon): boolean {
    const key = `${b.id}:${b.time}:${b.sig}`;
    if (!this.verified.includes(key)) {
      if (!verifyCoordinatorMessage(b, this.id)) return false;
      this.verified.push(key);
      if (this.verified.length > VERIFIED_BEACONS_KEPT) this.verified.shift();
    }
    if (b.time >= this.beaconTime) {
      this.beacon = b.id;
      this.beaconTime = b.time;
    }
    return true;
  }
}

/** Counters every agent of a worker adds to; the worker reports and resets them. */
export interface AgentStats {
  sent: number;
  acked: number;
  reconnects: number;
  failures: Map<string, number>;
  latency: Histogram;
  /** Authenticated connections now, by coordinator index. */
  connected: number[];
}

export interface AgentSettings {
  intervalMs: number;
  stats: AgentStats;
}

interface Pending {
  seq: number;
  line: string;
  /** performance.now() when sent on the current connection; 0 while not sent. */
  sentAt: number;
}

function countFailure(stats: AgentStats, kind: string): void {
  stats.failures.set(kind, (stats.failures.get(kind) ?? 0) + 1);
}

/** A fresh key straight from node:crypto (tweetnacl's key derivation costs ~5 ms, too slow for thousands). */
function freshKey(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // Raw keys are the last 32 bytes of their DER encodings (RFC 8410).
  const pub = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(-32));
  const seed = new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32));
  return { publicKey: pub, secretKey: seed, id: Buffer.from(pub).toString('hex'), privateKeyObject: privateKey };
}

export class LoadAgent {
  private ws: WebSocket | null = null;
  private key: KeyPair | null = null;
  private seq = 0;
  private prev = ZERO_HASH;
  private lastRecordAt = 0;
  private bootedAt = 0;
  private pending: Pending[] = [];
  private open = false;
  private stopped = false;
  private attempts = 0;
  /** Why this side is closing the connection (a nack, a bad message); null when the peer closed it. */
  private closingFor: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly target: CoordinatorState,
    private readonly settings: AgentSettings,
  ) {}

  start(): void {
    this.key ??= freshKey();
    this.bootedAt = Date.now();
    this.connect();
  }

  /** Closes the connection (1000) and stops; resolves once it is closed. */
  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    if (this.retry !== null) clearTimeout(this.retry);
    const ws = this.ws;
    if (ws === null || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'load test over');
    });
  }

  private connect(): void {
    const ws = new WebSocket(this.target.url, { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    this.ws = ws;
    this.closingFor = null;
    let phase: 'hello' | 'welcome' | 'streaming' = 'hello';
    let error = '';
    ws.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? 'error'));
    ws.on('close', (code: number) => {
      const kind = this.closingFor ?? `${phase === 'streaming' ? 'dropped' : 'refused'}:${code}${error === '' ? '' : `:${error}`}`;
      this.onClose(kind);
    });
    ws.on('message', (data: Buffer) => {
      if (phase === 'streaming') {
        this.onMessage(data.toString('utf8'));
        return;
      }
      const decoded = decodeFrame(data.toString('utf8'));
      const parsed = decoded.ok ? parseCoordinatorMessage(decoded.value) : null;
      const m = parsed?.ok === true ? parsed.value : null;
      if (phase === 'hello') {
        if (m?.t !== 'hello' || m.coordinator !== this.target.id || !verifyCoordinatorMessage(m, this.target.id)) {
          this.drop('untrusted-hello', 4001);
          return;
        }
        const key = this.key as KeyPair;
        ws.send(JSON.stringify({ t: 'auth', node: key.id, sig: signAuth(m.nonce, m.coordinator, key), agent: 'capanode/load', inventory: { gpus: [] } }));
        phase = 'welcome';
        return;
      }
      if (m?.t !== 'welcome' || !this.target.accept(m.beacon)) {
        this.drop('bad-welcome', 4001);
        return;
      }
      phase = 'streaming';
      this.onWelcome(m.head?.seq ?? 0);
    });
  }

  private onWelcome(head: number): void {
    const ws = this.ws as WebSocket;
    // What the coordinator holds is stored: acknowledged, though no ack frame will come for it.
    while (this.pending.length > 0 && (this.pending[0] as Pending).seq <= head) {
      this.pending.shift();
      this.settings.stats.acked += 1;
    }
    const resumeAt = this.pending[0]?.seq ?? this.seq + 1;
    if (head > this.seq || head < resumeAt - 1) {
      // The store holds a chain this agent did not sign, or lost records it acknowledged: nothing sane to send.
      countFailure(this.settings.stats, 'head-mismatch');
      this.stopped = true;
      if (this.timer !== null) clearInterval(this.timer);
      ws.terminate();
      return;
    }
    this.open = true;
    this.attempts = 0;
    this.settings.stats.connected[this.target.index] = (this.settings.stats.connected[this.target.index] ?? 0) + 1;
    const now = performance.now();
    for (const p of this.pending) {
      ws.send(attFrame([p.line]));
      p.sentAt = now;
      this.settings.stats.sent += 1;
    }
    if (this.timer === null) {
      // A random phase spreads the agents' records evenly over the interval.
      const { intervalMs } = this.settings;
      this.timer = setTimeout(() => {
        if (this.stopped) return;
        this.tick();
        this.timer = setInterval(() => this.tick(), intervalMs);
      }, Math.random() * intervalMs);
    }
  }

  private onMessage(text: string): void {
    let m: { t?: unknown; seq?: unknown; code?: unknown };
    try {
      m = JSON.parse(text) as typeof m;
    } catch {
      this.drop('bad-message', 4001);
      return;
    }
    if (m.t === 'ack' && typeof m.seq === 'number') this.onAck(m.seq);
    else if (m.t === 'nack') this.drop(`nack:${typeof m.code === 'string' ? m.code : '?'}`, 1000);
    else if (m.t === 'beacon') {
      const parsed = parseCoordinatorMessage(m);
      if (!parsed.ok || parsed.value.t !== 'beacon' || !this.target.accept(parsed.value)) this.drop('untrusted-beacon', 4001);
    }
    // Anything else (account, receipts, challenges when PoT is on) goes unanswered: this agent only streams uptime.
  }

  private onAck(seq: number): void {
    const now = performance.now();
    const { stats } = this.settings;
    while (this.pending.length > 0 && (this.pending[0] as Pending).seq <= seq) {
      const p = this.pending.shift() as Pending;
      if (p.sentAt > 0) stats.latency.add(now - p.sentAt);
      stats.acked += 1;
    }
  }

  private tick(): void {
    const { stats, intervalMs } = this.settings;
    if (this.pending.length >= MAX_BACKLOG) {
      countFailure(stats, 'backlog-full');
      return;
    }
    const key = this.key as KeyPair;
    const now = Date.now();
    const env: Envelope = {
      v: 1,
      kind: 'uptime',
      node: key.id,
      seq: this.seq + 1,
      prev: this.prev,
      time: now,
      body: {
        from: this.lastRecordAt === 0 ? now - intervalMs : this.lastRecordAt,
        to: now,
        beacon: this.target.beacon,
        gpus: [{ uuid: `GPU-${key.id.slice(0, 36)}`, util: (this.seq * 7) % 101, memUsedMiB: 10_240, tempC: 55, powerMw: 301_000, smClockMhz: 1980 }],
        host: { uptimeS: Math.floor((now - this.bootedAt) / 1000), load1Milli: 1250 },
      },
    };
    const signed = signEnvelope(env, key);
    this.seq += 1;
    this.prev = signed.hash;
    this.lastRecordAt = now;
    // canonical({env, sig}) without encoding env twice: "env" sorts before "sig".
    const line = `{"env":${signed.canonical},"sig":"${signed.record.sig}"}`;
    const p: Pending = { seq: this.seq, line, sentAt: 0 };
    this.pending.push(p);
    if (this.open && this.ws !== null) {
      this.ws.send(attFrame([line]));
      p.sentAt = performance.now();
      stats.sent += 1;
    }
  }

  /** Closes the connection for a reason of this side's, counted as that failure; the agent reconnects. */
  private drop(reason: string, code: number): void {
    this.closingFor = reason;
    this.ws?.close(code, reason);
    this.ws?.terminate();
  }

  private onClose(kind: string): void {
    const { stats } = this.settings;
    if (this.open) {
      this.open = false;
      stats.connected[this.target.index] = (stats.connected[this.target.index] ?? 1) - 1;
    }
    for (const p of this.pending) p.sentAt = 0;
    if (this.stopped) return;
    countFailure(stats, kind);
    // Exponential backoff with full jitter, as the real agent does.
    const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempts);
    this.attempts += 1;
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.stopped) return;
      stats.reconnects += 1;
      this.connect();
    }, BACKOFF_MIN_MS / 2 + Math.random() * (cap - BACKOFF_MIN_MS / 2));
  }
}
