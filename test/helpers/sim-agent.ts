/**
 * A simulated agent for coordinator tests: a small WebSocket client built on
 * proofs/ that does the handshake, streams records and answers PoT
 * challenges, honestly or in one of the ways a cheat would.
 */
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { recordLine, type VerifiedRecord } from '../../proofs/envelope.js';
import type { KeyPair } from '../../proofs/keys.js';
import { merkleTreeHash } from '../../proofs/merkle.js';
import {
  decodeFrame,
  MAX_FRAME_BYTES,
  packAttFrames,
  parseCoordinatorMessage,
  signAuth,
  verifyCoordinatorMessage,
  type Challenge,
  type CoordinatorMessage,
  type Hello,
  type Inventory,
  type Nack,
  type Open,
  type Verdict,
  type Welcome,
} from '../../proofs/messages.js';
import { buildReveal, computePot, encodeRevealItems, POT_DIGEST_BYTES, repHash } from '../../proofs/pot.js';

/**
 * How the agent answers challenges:
 * - honest: computes everything;
 * - skip: skips a fraction of rows (garbage digests for them) but commits consistently to what it has;
 * - wrong-digests: commits honestly, then reveals altered digests;
 * - silent: never answers (misses the deadline);
 * - manual: does nothing; the test drives the exchange.
 */
export type PotBehaviour = { kind: 'honest' } | { kind: 'skip'; fraction: number } | { kind: 'wrong-digests' } | { kind: 'silent' } | { kind: 'manual' };

export interface SimAgentOptions {
  url: string;
  coordinatorId: string;
  key: KeyPair;
  inventory?: Inventory;
  agent?: string;
  pot?: PotBehaviour;
  /** Claim this elapsedUs in commits instead of the measured time. */
  claimElapsedUs?: number;
  /** Wait this long before committing (a slow device). */
  commitDelayMs?: number;
}

export interface Closed {
  code: number;
  reason: string;
}

type Waiter = { match: (m: CoordinatorMessage) => boolean; resolve: (m: CoordinatorMessage) => void };

/** Opens a connection and waits for the signed hello; nothing else. */
export async function openConnection(url: string, options: { autoPong?: boolean } = {}): Promise<{ ws: WebSocket; hello: Hello; closed: Promise<Closed>; next: () => Promise<string> }> {
  const ws = new WebSocket(url, { maxPayload: MAX_FRAME_BYTES, autoPong: options.autoPong ?? true });
  const queue: string[] = [];
  const takers: ((s: string) => void)[] = [];
  ws.on('message', (data: Buffer) => {
    const text = data.toString('utf8');
    const t = takers.shift();
    if (t !== undefined) t(text);
    else queue.push(text);
  });
  const closed = new Promise<Closed>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
  ws.on('error', () => undefined);
  const next = (): Promise<string> => {
    const q = queue.shift();
    return q !== undefined ? Promise.resolve(q) : new Promise((resolve) => takers.push(resolve));
  };
  const first = await Promise.race([next(), closed.then((c) => Promise.reject(new Error(`closed before hello: ${c.code} ${c.reason}`)))]);
  const parsed = parseCoordinatorMessage(JSON.parse(first));
  if (!parsed.ok || parsed.value.t !== 'hello') throw new Error(`expected hello, got ${first}`);
  return { ws, hello: parsed.value, closed, next };
}

const L = (1n << 252n) + 27742317777372353535851937790883648493n;

/** The same Ed25519 signature with S replaced by S + L: tweetnacl accepts it, RFC 8032 (and node:crypto) must not. */
export function malleateSignature(sigHex: string): string {
  const sig = Buffer.from(sigHex, 'hex');
  let s = 0n;
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i] ?? 0);
  s += L;
  for (let i = 0; i < 32; i++) {
    sig[32 + i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return sig.toString('hex');
}

export class SimAgent {
  readonly messages: CoordinatorMessage[] = [];
  readonly nacks: Nack[] = [];
  readonly verdicts: Verdict[] = [];
  readonly challenges: Challenge[] = [];
  acked = 0;
  welcome!: Welcome;
  closed!: Promise<Closed>;
  private ws!: WebSocket;
  private waiters: Waiter[] = [];
  private pot: { challenge: Challenge; repDigests: Uint8Array[]; repHashes: Uint8Array[] } | null = null;

  private constructor(readonly options: SimAgentOptions) {}

  /** Connects, checks the hello's signature and coordinator, authenticates, waits for welcome. Rejects with the close code when refused. */
  static async connect(options: SimAgentOptions): Promise<SimAgent> {
    const agent = new SimAgent(options);
    await agent.handshake();
    return agent;
  }

  /** connect, retrying while the node's previous session is still closing (4003), as a real agent's backoff would. */
  static async connectRetry(options: SimAgentOptions, attempts = 100): Promise<SimAgent> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await SimAgent.connect(options);
      } catch (e) {
        if ((e as { closed?: Closed }).closed?.code !== 4003 || attempt >= attempts) throw e;
        await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
      }
    }
  }

  get id(): string {
    return this.options.key.id;
  }

  /** Sends a message object as JSON text, a string as is, a Buffer as a binary frame. */
  send(message: object | string | Buffer): void {
    if (Buffer.isBuffer(message)) this.ws.send(message, { binary: true });
    else this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Sends records in as few att frames as the limits allow. */
  sendRecords(records: readonly VerifiedRecord[]): void {
    for (const frame of packAttFrames(records.map((r) => recordLine(r.record)))) this.ws.send(frame);
  }

  /** The first message (already received or to come) that matches; rejects on close or after timeoutMs. */
  waitFor<T extends CoordinatorMessage>(match: (m: CoordinatorMessage) => m is T, timeoutMs?: number): Promise<T>;
  waitFor(match: (m: CoordinatorMessage) => boolean, timeoutMs?: number): Promise<CoordinatorMessage>;
  waitFor(match: (m: CoordinatorMessage) => boolean, timeoutMs = 15_000): Promise<CoordinatorMessage> {
    const seen = this.messages.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for a message; last: ${JSON.stringify(this.messages.at(-1) ?? null).slice(0, 300)}`)), timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      this.waiters.push(waiter);
      void this.closed.then((c) => {
        if (!this.waiters.includes(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`connection closed (${c.code} ${c.reason}) while waiting`));
      });
    });
  }

  /** Resolves once everything up to seq is acknowledged. */
  async waitForAck(seq: number, timeoutMs?: number): Promise<void> {
    if (this.acked >= seq) return;
    await this.waitFor((m) => m.t === 'ack' && m.seq >= seq, timeoutMs);
  }

  waitForNack(timeoutMs?: number): Promise<Nack> {
    const before = this.nacks.length;
    return this.waitFor((m): m is Nack => m.t === 'nack' && this.nacks.indexOf(m) >= before, timeoutMs);
  }

  waitForVerdict(timeoutMs?: number): Promise<Verdict> {
    return this.waitFor((m): m is Verdict => m.t === 'verdict', timeoutMs);
  }

  close(): Promise<Closed> {
    this.ws.close(1000, 'done');
    return this.closed;
  }

  /** Drops the TCP connection without a closing handshake (a crash or a cable pulled). */
  kill(): void {
    this.ws.terminate();
  }

  private handshake(): Promise<void> {
    const ws = new WebSocket(this.options.url, { maxPayload: MAX_FRAME_BYTES });
    this.ws = ws;
    this.closed = new Promise<Closed>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
    ws.on('error', () => undefined);
    let phase: 'hello' | 'welcome' | 'streaming' = 'hello';
    return new Promise<void>((resolve, reject) => {
      void this.closed.then((c) => reject(Object.assign(new Error(`refused: ${c.code} ${c.reason}`), { closed: c })));
      ws.on('message', (data: Buffer) => {
        const text = data.toString('utf8');
        if (phase === 'streaming') {
          this.onMessage(text);
          return;
        }
        const decoded = decodeFrame(text);
        const parsed = decoded.ok ? parseCoordinatorMessage(decoded.value) : null;
        if (parsed === null || !parsed.ok) {
          reject(new Error(`malformed message during the handshake: ${text.slice(0, 200)}`));
          ws.close(4001, 'malformed');
          return;
        }
        const m = parsed.value;
        if (phase === 'hello') {
          if (m.t !== 'hello' || m.coordinator !== this.options.coordinatorId || !verifyCoordinatorMessage(m, this.options.coordinatorId)) {
            reject(new Error('hello not signed by the pinned coordinator'));
            ws.close(4001, 'hello not signed by the pinned coordinator');
            return;
          }
          phase = 'welcome';
          this.send({
            t: 'auth',
            node: this.options.key.id,
            sig: signAuth(m.nonce, m.coordinator, this.options.key),
            agent: this.options.agent ?? 'capanode/0.0.0-sim',
            inventory: this.options.inventory ?? { gpus: [] },
          });
          return;
        }
        if (m.t !== 'welcome') {
          reject(new Error(`expected welcome, got ${text.slice(0, 200)}`));
          return;
        }
        this.welcome = m;
        // What the coordinator holds is as good as acknowledged.
        this.acked = m.head?.seq ?? 0;
        phase = 'streaming';
        resolve();
      });
    });
  }

  private onMessage(text: string): void {
    const decoded = decodeFrame(text);
    const parsed = decoded.ok ? parseCoordinatorMessage(decoded.value) : null;
    if (parsed === null || !parsed.ok) {
      this.ws.close(4001, 'malformed message from coordinator');
      return;
    }
    const m = parsed.value;
    if ((m.t === 'beacon' || m.t === 'challenge' || m.t === 'verdict') && !verifyCoordinatorMessage(m, this.options.coordinatorId)) {
      this.ws.close(4001, `${m.t} not signed by the pinned coordinator`);
      return;
    }
    this.messages.push(m);
    if (m.t === 'ack') this.acked = Math.max(this.acked, m.seq);
    if (m.t === 'nack') this.nacks.push(m);
    if (m.t === 'verdict') this.verdicts.push(m);
    if (m.t === 'challenge') {
      this.challenges.push(m);
      this.onChallenge(m);
    }
    if (m.t === 'open') this.onOpen(m);
    for (const w of [...this.waiters]) {
      if (w.match(m)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  }

  private onChallenge(c: Challenge): void {
    const behaviour = this.options.pot ?? { kind: 'honest' };
    if (behaviour.kind === 'silent' || behaviour.kind === 'manual') return;
    const started = performance.now();
    const seed = new Uint8Array(Buffer.from(c.seed, 'hex'));
    const proof = computePot(seed, c.n, c.reps);
    let { repDigests, repHashes, root } = proof;
    if (behaviour.kind === 'skip') {
      // Rows it "skipped" get garbage digests; the commitment is consistent with them.
      repDigests = repDigests.map((d, r) => {
        const out = new Uint8Array(d);
        for (let i = 0; i < c.n; i++) {
          const u = createHash('sha256').update(`${c.id}:${r}:${i}`).digest().readUInt32LE(0) / 2 ** 32;
          if (u < behaviour.fraction) out.fill(0xab, i * POT_DIGEST_BYTES, (i + 1) * POT_DIGEST_BYTES);
        }
        return out;
      });
      repHashes = repDigests.map((d, r) => repHash(r, d));
      root = merkleTreeHash(repHashes);
    }
    this.pot = { challenge: c, repDigests, repHashes };
    const elapsedUs = this.options.claimElapsedUs ?? Math.max(1, Math.round((performance.now() - started) * 1000));
    const commit = { t: 'commit', id: c.id, root: Buffer.from(root).toString('hex'), elapsedUs, device: 'cpu' };
    setTimeout(() => {
      if (this.ws.readyState === WebSocket.OPEN) this.send(commit);
    }, this.options.commitDelayMs ?? 0);
  }

  private onOpen(o: Open): void {
    const behaviour = this.options.pot ?? { kind: 'honest' };
    if (behaviour.kind === 'manual' || this.pot === null || this.pot.challenge.id !== o.id) return;
    const { repDigests, repHashes } = this.pot;
    const items = buildReveal({ checks: o.checks.map(([r, i]) => [r, i] as const), repHashes, repDigests });
    if (behaviour.kind === 'wrong-digests') {
      for (const item of items) {
        const altered = new Uint8Array(item.digests);
        altered[0] = (altered[0] ?? 0) ^ 0xff;
        item.digests = altered;
      }
    }
    this.send({ t: 'reveal', id: o.id, items: encodeRevealItems(items) });
  }
}
