import { describe, expect, it } from 'vitest';
import { chooseRowBackend, jsRows } from '../../../coordinator/pot/rows.js';
import { createLogger } from '../../../common/log.js';
import { nativeAvailable } from '../../../native/index.js';
import { chooseChecks, computeCheckDigests } from '../../../proofs/pot.js';

describe('row backend', () => {
  it('uses the native CPU path when the addon loads, and agrees with proofs/pot.ts either way', async () => {
    const backend = chooseRowBackend(jsRows, createLogger({ level: 'silent' }));
    expect(backend.name).toBe(nativeAvailable() ? 'native' : 'js');
    const seed = new Uint8Array(32).fill(7);
    const checks = chooseChecks(4, 128, 16, (k) => new Uint8Array(k).map((_, i) => (i * 37 + 11) & 0xff));
    const got = await backend.compute(seed, 128, checks);
    expect(got.map((d) => Buffer.from(d).toString('hex'))).toEqual(computeCheckDigests(seed, 128, checks).map((d) => Buffer.from(d).toString('hex')));
  });
});
