import { randomBytes } from 'node:crypto';
import { buildEnvelope, checkRecord, recordLine, signEnvelope, ZERO_HASH } from '../proofs/envelope.js';
import { generateKeyPair, sign, verify } from '../proofs/keys.js';
import { benchUptimeBody, goal, opsPerSec, type BenchSuite } from './suite.js';


/** verify.rawPerSec vs verify.recordsPerSec: what parsing, schema and canonical encoding cost on top of Ed25519. */
export const verifySuite: BenchSuite = {
  name: 'verify',
  run() {
    const key = generateKeyPair();
    const lines: string[] = [];
    let prev = ZERO_HASH;
    for (let seq = 1; seq <= 2000; seq++) {
      const rec = signEnvelope(buildEnvelope({ kind: 'uptime', node: key.id, seq, prev, time: 1_700_000_000_000 + seq, body: benchUptimeBody(seq) }), key);
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
    // Alternating rounds, compared by their medians: a shared machine's noise moves both sides together.
    const raw: number[] = [];
    const records: number[] = [];
    for (let round = 0; round < 5; round++) {
      raw.push(
        opsPerSec(() => {
          if (!verify(message, sig, key.id)) throw new Error('raw verify failed');
        }, 400),
      );
      records.push(
        opsPerSec(() => {
          const r = checkRecord(JSON.parse(lines[i++ % lines.length] ?? ''));
          if (!r.ok) throw new Error(r.problem.message);
        }, 400),
      );
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? 0;
    const rawPerSec = median(raw);
    const recordsPerSec = median(records);
    const ratio = Math.round((recordsPerSec / rawPerSec) * 1000) / 1000;
    return Promise.resolve({
      rawPerSec,
      recordsPerSec,
      recordBytes: Buffer.byteLength(lines[0] ?? ''),
      ratio: goal(ratio, '>=', 0.8),
    });
  },
};
