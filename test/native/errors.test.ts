import { describe, expect, it } from 'vitest';
import { CapanodeError } from '../../common/errors.js';
import { addonCandidates, FAILED_REASONS, NATIVE_HINTS, nativeReason, toNativeError, UNAVAILABLE_REASONS } from '../../native/index.js';

describe('native errors', () => {
  it('have a hint for every reason', () => {
    for (const reason of [...UNAVAILABLE_REASONS, ...FAILED_REASONS]) expect(NATIVE_HINTS[reason].length).toBeGreaterThan(20);
    expect(NATIVE_HINTS['addon-missing']).toMatch(/^Possible solutions:/);
  });

  it('map the addon\'s errors to native-unavailable / native-failed with details', () => {
    const raw = Object.assign(new Error('cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY'), {
      kind: 'failed',
      reason: 'out-of-memory',
      call: 'cuMemAlloc_v2',
      cuResult: 'CUDA_ERROR_OUT_OF_MEMORY',
      cuResultCode: 2,
    });
    const e = toNativeError(raw);
    expect(e).toBeInstanceOf(CapanodeError);
    expect(e.code).toBe('native-failed');
    expect(e.details).toEqual({ reason: 'out-of-memory', call: 'cuMemAlloc_v2', cuResult: 'CUDA_ERROR_OUT_OF_MEMORY' });
    expect(e.hint).toBe(NATIVE_HINTS['out-of-memory']);
    expect(e.cause).toBe(raw);
    expect(nativeReason(e)).toBe('out-of-memory');

    const u = toNativeError(Object.assign(new Error('x'), { reason: 'no-device' }));
    expect(u.code).toBe('native-unavailable');
    expect(u.details).toMatchObject({ reason: 'no-device', call: null, cuResult: null });
  });

  it('treat anything unexpected as an internal failure', () => {
    for (const thrown of [new TypeError('capanode native: keys must be a Uint32Array'), 'a string', Object.assign(new Error('x'), { reason: 'made-up' })]) {
      const e = toNativeError(thrown);
      expect(e.code).toBe('native-failed');
      expect(nativeReason(e)).toBe('internal');
    }
    expect(nativeReason(new CapanodeError('bad-input', 'x'))).toBeUndefined();
  });

  it('look for the addon in the package\'s native/build', () => {
    expect(addonCandidates('/opt/capanode')).toEqual(['/opt/capanode/native/build/Release/capanode_native.node', '/opt/capanode/native/build/Debug/capanode_native.node']);
  });
});
