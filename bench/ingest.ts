/**
 * ingest.recordsPerSec: records verified, stored durably and acknowledged by
 * one coordinator process (`capanode-coordinator serve` from dist/), sent by
 * 50 simulated agents over loopback, beside verify.rawPerSec (one Ed25519
 * verification on one thread) measured in the same run. And
 * backfill.secondsFor100k: one agent sending 100,000 records from seq 1.
 *
 * Records are signed before the clock starts; what is timed is the
 * coordinator's work: WebSocket, JSON, schema, canonical form, signature,
 * chain, SQLite commit (WAL, synchronous=FULL) and the ack.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { writeKeyFile } from '../common/keyfile.js';
import { buildEnvelope, signEnvelope, ZERO_HASH } from '../proofs/envelope.js';
import { generateKeyPair, sign, verify, type KeyPair } from '../proofs/keys.js';
import { MAX_FRAME_BYTES, packAttFrames, parseCoordinatorMessage, signAuth } from '../proofs/messages.js';
import { benchUptimeBody, goal, opsPerSec, type BenchSuite } from './suite.js';

const CLI = fileURLToPath(new URL('../coordinator/cli.js', import.meta.url));
const AGENTS = 50;
const RECORDS_PER_AGENT = 600;
const BACKFILL = 100_000;
/** Unacknowledged frames an agent keeps in flight. */
const WINDOW = 4;


/** A node's chain from seq 1, as att frames of at most 256 records; and the seq that ends each frame. */
function signedFrames(key: KeyPair, count: number): { frames: string[]; ends: number[] } {
  const lines: string[] = [];
  let prev = ZERO_HASH;
  for (let seq = 1; seq <= count; seq++) {
    const rec = signEnvelope(buildEnvelope({ kind: 'uptime', node: key.id, seq, prev, time: 1_700_000_000_000 + seq * 30_000, body: benchUptimeBody(seq) }), key);
    prev = rec.hash;
    // canonical({env, sig}) without encoding env twice: "env" sorts before "sig".
    lines.push(`{"env":${rec.canonical},"sig":"${rec.record.sig}"}`);
  }
  const frames = packAttFrames(lines);
  const ends: number[] = [];
  let seq = 0;
  for (const f of frames) {
    seq += (JSON.parse(f) as { items: unknown[] }).items.length;
    ends.push(seq);
  }
  return { frames, ends };
}

interface Server {
  child: ChildProcess;
  url: string;
  id: string;
  stop(): Promise<void>;
}

async function startServer(dir: string): Promise<Server> {
  const key = generateKeyPair();
  const keyFile = join(dir, 'coordinator.key');
  writeKeyFile(keyFile, key, { overwrite: true });
  const settings = ['--listen', '127.0.0.1:0', '--pot-enabled', 'false', '--log-level', 'warn', '--rate-messages-per-sec', '100000', '--rate-bytes-per-sec', String(1 << 30), '--rate-byte-burst', String(1 << 30)];
  const child = spawn(process.execPath, [CLI, 'serve', '--key', keyFile, '--store', `sqlite:${join(dir, 'ledger.db')}`, ...settings], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString('utf8');
      const m = /listening on ws:\/\/[^\s]+:(\d+)\n/.exec(err);
      if (m !== null) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`coordinator exited with ${code}: ${err}`)));
  });
  return {
    child,
    url: `ws://127.0.0.1:${port}`,
    id: key.id,
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Connects and authenticates; resolves once the welcome arrives. */
function connect(url: string, coordinatorId: string, key: KeyPair): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { maxPayload: MAX_FRAME_BYTES });
    ws.on('error', reject);
    ws.on('close', (code, reason) => reject(new Error(`closed during handshake: ${code} ${reason.toString()}`)));
    ws.once('message', (data: Buffer) => {
      const hello = parseCoordinatorMessage(JSON.parse(data.toString('utf8')));
      if (!hello.ok || hello.value.t !== 'hello' || hello.value.coordinator !== coordinatorId) {
        reject(new Error('unexpected hello'));
        return;
      }
      ws.send(JSON.stringify({ t: 'auth', node: key.id, sig: signAuth(hello.value.nonce, coordinatorId, key), agent: 'capanode/bench', inventory: { gpus: [] } }));
      ws.once('message', () => {
        ws.removeAllListeners('close');
        ws.removeAllListeners('error');
        resolve(ws);
      });
    });
  });
}

/** Streams the frames with a window of unacknowledged ones; resolves when the last record is acked. */
function stream(ws: WebSocket, frames: string[], ends: number[]): Promise<void> {
  const last = ends[ends.length - 1] ?? 0;
  return new Promise((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    const pump = (): void => {
      while (sent < frames.length && sent - ends.filter((e) => e <= acked).length < WINDOW) ws.send(frames[sent++] as string);
    };
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as { t: string; seq?: number; code?: string; message?: string };
      if (m.t === 'ack' && typeof m.seq === 'number') {
        acked = m.seq;
        if (acked >= last) resolve();
        else pump();
      } else if (m.t === 'nack') {
        reject(new Error(`nack ${m.code ?? ''}: ${m.message ?? ''}`));
      }
    });
    ws.on('close', (code) => {
      if (acked < last) reject(new Error(`closed with ${code} at ack ${acked}`));
    });
    pump();
  });
}

function rawVerifyPerSec(): number {
  const key = generateKeyPair();
  const message = randomBytes(600);
  const sig = sign(message, key);
  for (let w = 0; w < 500; w++) verify(message, sig, key.id);
  return opsPerSec(() => {
    if (!verify(message, sig, key.id)) throw new Error('raw verify failed');
  });
}

export const ingestSuite: BenchSuite = {
  name: 'ingest',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'capanode-bench-ingest-'));
    try {
      const agents = Array.from({ length: AGENTS }, () => generateKeyPair());
      const chains = agents.map((k) => signedFrames(k, RECORDS_PER_AGENT));
      const backfillKey = generateKeyPair();
      const backfill = signedFrames(backfillKey, BACKFILL);

      const server = await startServer(dir);
      try {
        const rawBefore = rawVerifyPerSec();
        const sockets = await Promise.all(agents.map((k) => connect(server.url, server.id, k)));
        const t0 = performance.now();
        await Promise.all(sockets.map((ws, i) => stream(ws, chains[i]?.frames ?? [], chains[i]?.ends ?? [])));
        const seconds = (performance.now() - t0) / 1000;
        for (const ws of sockets) ws.close();
        const rawAfter = rawVerifyPerSec();
        const rawPerSec = Math.round((rawBefore + rawAfter) / 2);
        const recordsPerSec = Math.round((AGENTS * RECORDS_PER_AGENT) / seconds);

        const ws = await connect(server.url, server.id, backfillKey);
        const b0 = performance.now();
        await stream(ws, backfill.frames, backfill.ends);
        const backfillSeconds = Math.round((performance.now() - b0) / 10) / 100;
        ws.close();

        return {
          agents: AGENTS,
          records: AGENTS * RECORDS_PER_AGENT,
          recordsPerSec,
          verifyRawPerSec: rawPerSec,
          ratio: goal(Math.round((recordsPerSec / rawPerSec) * 1000) / 1000, '>=', 0.6),
          backfill: { secondsFor100k: goal(backfillSeconds, '<=', 20), recordsPerSec: Math.round(BACKFILL / backfillSeconds) },
        };
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
