import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, flagName, loadCoordinatorConfig, parseFlagValue, parseListen, revealBytes } from '../../coordinator/config.js';
import { MAX_FRAME_BYTES } from '../../proofs/messages.js';
import { thrown } from '../helpers/errors.js';
import { tempDir } from '../helpers/tmp.js';

describe('coordinator config', () => {
  it('has a default for every setting and a description for its flag', () => {
    const c = loadCoordinatorConfig();
    expect(c).toMatchObject({ listen: '127.0.0.1:7400', beaconIntervalMs: 60_000, pingIntervalMs: 30_000, potK: 16, potN: 4096, potReps: null, verifyWorkers: 'auto' });
    expect(CONFIG_KEYS.map(flagName)).toContain('--pot-deadline-ms');
  });

  it('takes a file, then flags over it', () => {
    const file = join(tempDir(), 'coordinator.json');
    writeFileSync(file, JSON.stringify({ beaconIntervalMs: 5000, potK: 8 }));
    expect(loadCoordinatorConfig({ file, overrides: { potK: 4 } })).toMatchObject({ beaconIntervalMs: 5000, potK: 4 });
  });

  it('names every bad key and where it came from, at once', () => {
    const file = join(tempDir(), 'coordinator.json');
    writeFileSync(file, JSON.stringify({ beaconIntervalMs: 'soon', nope: 1 }));
    const e = thrown(() => loadCoordinatorConfig({ file, overrides: { potN: 100 } }));
    expect(e.code).toBe('config-invalid');
    expect(e.message).toContain(`${file}: unknown key "nope"`);
    expect(e.message).toContain(`${file}: key "beaconIntervalMs"`);
    expect(e.message).toMatch(/--pot-n: .*multiple of 64/);
    // Rules across keys, once each key is valid on its own.
    const range = thrown(() => loadCoordinatorConfig({ overrides: { challengeMinIntervalMs: 9000, challengeMaxIntervalMs: 1000 } }));
    expect(range.message).toMatch(/--challenge-min-interval-ms: must not exceed challengeMaxIntervalMs \(1000\)/);
  });

  it('refuses a k whose reveal cannot fit in one frame', () => {
    expect(revealBytes(4096, 16)).toBeLessThan(MAX_FRAME_BYTES);
    expect(revealBytes(4096, 64)).toBeGreaterThan(MAX_FRAME_BYTES);
    expect(thrown(() => loadCoordinatorConfig({ overrides: { potK: 64 } })).message).toMatch(/--pot-k: 64 checks at potN = 4096 need a reveal larger than one/);
  });

  it('parses flags and HOST:PORT', () => {
    expect([parseFlagValue('42'), parseFlagValue('true'), parseFlagValue('null'), parseFlagValue('auto')]).toEqual([42, true, null, 'auto']);
    expect(parseListen('0.0.0.0:7400')).toEqual({ host: '0.0.0.0', port: 7400 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(thrown(() => parseListen('7400')).code).toBe('config-invalid');
  });
});
