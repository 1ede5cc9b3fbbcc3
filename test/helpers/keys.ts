import { createHash } from 'node:crypto';
import { keyPairFromSeed, type KeyPair } from '../../proofs/keys.js';
import { buildEnvelope, signEnvelope, ZERO_HASH, type BodyOf, type Kind, type VerifiedRecord } from '../../proofs/envelope.js';

/** A deterministic key for tests: seed = SHA-256("capanode:test-key:" + name). */
export function testKey(name = 'node-a'): KeyPair {
  return keyPairFromSeed(new Uint8Array(createHash('sha256').update(`capanode:test-key:${name}`).digest()));
}

export function uptimeBody(i: number): BodyOf['uptime'] {
  return {
    from: 1_700_000_000_000 + i * 30_000,
    to: 1_700_000_000_000 + (i + 1) * 30_000,
    beacon: null,
    gpus: [{ uuid: 'GPU-5f5fa2a3-6d4b-2b1c-9a4c-2a3bb5a0e8e1', util: i % 101, memUsedMiB: 1024, tempC: 41, powerMw: 71_000, smClockMhz: 1980 }],
    host: { uptimeS: 3600 + i * 30, load1Milli: 250 },
  };
}

/** A valid chain of `count` signed records from seq 1 (uptime, throughput, usage and claim mixed). */
export function makeChain(key: KeyPair, count: number, start = { seq: 1, prev: ZERO_HASH }): VerifiedRecord[] {
  const out: VerifiedRecord[] = [];
  let prev = start.prev;
  for (let i = 0; i < count; i++) {
    const seq = start.seq + i;
    const kind: Kind = (['uptime', 'uptime', 'throughput', 'usage', 'claim'] as const)[i % 5] ?? 'uptime';
    const time = 1_700_000_000_000 + seq * 30_000;
    const env = buildEnvelope({ kind, node: key.id, seq, prev, time, body: sampleBody(kind, seq) });
    const rec = signEnvelope(env, key);
    out.push(rec);
    prev = rec.hash;
  }
  return out;
}

export function sampleBody(kind: Kind, i: number): BodyOf[Kind] {
  switch (kind) {
    case 'uptime':
      return uptimeBody(i);
    case 'throughput':
      return {
        challenge: null,
        device: 'cpu',
        n: 256,
        reps: 2,
        dtype: 'f16',
        root: 'ab'.repeat(32),
        elapsedUs: 120_000 + i,
        local: { memBwMBps: 20_000, fp32Gflops: 50, tensorGflops: null, h2dMBps: null, d2hMBps: null },
        verdict: null,
      };
    case 'usage':
      return {
        job: `job-${i}`,
        workload: 'exec',
        device: 'GPU-5f5fa2a3-6d4b-2b1c-9a4c-2a3bb5a0e8e1',
        startedAt: 1_700_000_000_000,
        endedAt: 1_700_000_060_000,
        gpuMs: 60_000,
        energyMj: 4_200_000,
        exitCode: 0,
        outputSha256: 'cd'.repeat(32),
      };
    case 'claim':
      return { amount: 1000 + i, to: 'wallet:alice', epochs: [1, 2] };
  }
}
