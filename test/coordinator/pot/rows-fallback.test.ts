import { describe, expect, it, vi } from 'vitest';
import { chooseRowBackend } from '../../../coordinator/pot/rows.js';
import { createLogger } from '../../../common/log.js';

vi.mock('../../../native/index.js', () => ({
  nativeAvailable: () => true,
  verifyRows: () => Promise.reject(new Error('native-failed: device-hung')),
}));

describe('row backend fallback', () => {
  it('falls back to the TypeScript reference when a native call fails, and says so', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn' }, { write: (s: string) => lines.push(s) });
    const fallback = vi.fn(() => Promise.resolve([new Uint8Array(8)]));
    const backend = chooseRowBackend(fallback, log);
    expect(backend.name).toBe('native');
    expect(await backend.compute(new Uint8Array(32), 64, [[0, 0]])).toEqual([new Uint8Array(8)]);
    expect(fallback).toHaveBeenCalledOnce();
    expect(lines.join('')).toContain('native row verification failed');
  });
});
