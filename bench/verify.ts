import { randomBytes } from 'node:crypto';
import { buildEnvelope, checkRecord, recordLine, signEnvelope, ZERO_HASH, type BodyOf } from '../proofs/envelope.js';
import { generateKeyPair, sign, verify } from '../proofs/keys.js';
import { goal, opsPerSec, type BenchSuite } from './suite.js';

function uptimeBody(i: number): BodyOf['uptime'] {
  return {
    from: 1_700_000_000_000 + i * 30_000,
    to: 1_700_000_000_000 + (i + 1) * 30_000,
    beacon: randomBytes(16).toString('hex'),
    gpus: [{ uuid: 'GPU-5f5fa2a3-6d4b-2b1c-9a4c-2a3bb5a0e8e1', util: i % 101, memUsedMiB: 10_240, tempC: 55, powerMw: 301_000, smClockMhz: 1980 }],
    host: { uptimeS: 86_400 + i * 30, load1Milli: 1250 },
  };
}

/** verify.rawPerSec vs verify.recordsPerSec: what parsing, schema and canonical encoding cost on top of Ed25519. */
export const verifySuite: BenchSuite = {
  name: 'verify',
  run() {
    const key = generateKeyPair();
    const lines: string[] = [];
    let prev = ZERO_HASH;
    for (let seq = 1; seq <= 2000; seq++) {
      const rec = signEnvelope(buildEnvelope({ kind: 'uptime', node: key.id, seq, prev, time: 1_700_000_000_000 + seq, body: uptimeBody(seq) }), key);
      prev = rec.hash;
      lines.push(recordLine(rec.record));
    }
    const message = randomBytes(300);
    const sig = sign(message, key);
    let i = 0;
    // Warm both paths before measuring.
    for (let w = 0; w < 500; w++) {
      verify(message, sig, key.id);
      checkRecord(JSON.parse(lines[w % lines.length] ?? ''));
    }
    const rawPerSec = opsPerSec(() => {
      if (!verify(message, sig, key.id)) throw new Error('raw verify failed');
    });
    const recordsPerSec = opsPerSec(() => {
      const r = checkRecord(JSON.parse(lines[i++ % lines.length] ?? ''));
      if (!r.ok) throw new Error(r.problem.message);
    });
    const ratio = Math.round((recordsPerSec / rawPerSec) * 1000) / 1000;
    return Promise.resolve({
      rawPerSec,
      recordsPerSec,
      recordBytes: Buffer.byteLength(lines[0] ?? ''),
      ratio: goal(ratio, '>=', 0.8),
    });
  },
};
