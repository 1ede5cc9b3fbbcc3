import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gpuBench, gpuPot, listGpus, nativeReason } from '../../native/index.js';
import { merkleTreeHash } from '../../proofs/merkle.js';
import { computePot } from '../../proofs/pot.js';
import { rejection } from '../helpers/errors.js';
import { withFakeCuda, type FakeCudaMode } from '../helpers/fake-libcuda.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const seedOf = (label: string): Uint8Array => new Uint8Array(createHash('sha256').update(`capanode:test-seed:${label}`).digest());

async function withLib<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env['CAPANODE_LIBCUDA'];
  process.env['CAPANODE_LIBCUDA'] = path;
  try {
    return await fn();
  } finally {
    if (saved === undefined) Reflect.deleteProperty(process.env, 'CAPANODE_LIBCUDA');
    else process.env['CAPANODE_LIBCUDA'] = saved;
  }
}

const REAL_DRIVER = ['/usr/lib/x86_64-linux-gnu/libcuda.so.1', '/usr/lib64/libcuda.so.1', '/usr/lib/aarch64-linux-gnu/libcuda.so.1'].some((p) => existsSync(p));

describe('without a driver', () => {
  it.skipIf(REAL_DRIVER)('reports driver-not-found on this machine (no libcuda at all)', async () => {
    const e = await rejection(listGpus());
    expect(e.code).toBe('native-unavailable');
    expect(e.details).toMatchObject({ reason: 'driver-not-found', call: null, cuResult: null });
    expect(e.message).toMatch(/libcuda was not found/);
    expect(e.hint).toMatch(/NVIDIA driver/);
  });

  it('reports driver-not-found for a CAPANODE_LIBCUDA that does not exist', async () => {
    const e = await withLib('/nonexistent/libcuda.so.1', () => rejection(listGpus()));
    expect(nativeReason(e)).toBe('driver-not-found');
    expect(e.message).toContain('/nonexistent/libcuda.so.1');
  });

  it('reports driver-incomplete for a library that is not a driver', async () => {
    const libm = ['/lib/x86_64-linux-gnu/libm.so.6', '/lib64/libm.so.6', '/lib/aarch64-linux-gnu/libm.so.6', '/usr/lib/libm.so.6'].find((p) => existsSync(p));
    if (libm === undefined) return;
    const e = await withLib(libm, () => rejection(listGpus()));
    expect(nativeReason(e)).toBe('driver-incomplete');
    expect(e.message).toContain('cuInit');
  });
});

describe('a driver that fails in chosen ways (test/helpers/fake-libcuda.c)', () => {
  const cases: [FakeCudaMode, string, string, string | null][] = [
    ['no-device', 'native-unavailable', 'no-device', 'CUDA_ERROR_NO_DEVICE'],
    ['zero-devices', 'native-unavailable', 'no-device', null],
    ['driver-mismatch', 'native-unavailable', 'insufficient-driver', 'CUDA_ERROR_SYSTEM_DRIVER_MISMATCH'],
    ['stub-library', 'native-unavailable', 'driver-not-found', 'CUDA_ERROR_STUB_LIBRARY'],
    ['old-driver', 'native-unavailable', 'insufficient-driver', null],
    ['init-unknown', 'native-unavailable', 'driver-init-failed', 'CUDA_ERROR_UNKNOWN'],
  ];
  it.each(cases)('%s: %s (%s)', async (mode, code, reason, cuResult) => {
    const e = await withFakeCuda(mode, () => rejection(listGpus()));
    expect(e.code).toBe(code);
    expect(e.details).toMatchObject({ reason, cuResult });
    if (cuResult !== null) expect(e.details?.['call']).toBe('cuInit');
    expect(e.hint).toBeTypeOf('string');
  });

  it('old-driver names the CUDA versions', async () => {
    const e = await withFakeCuda('old-driver', () => rejection(gpuPot(0, seedOf('x'), 64, 1)));
    expect(e.message).toMatch(/CUDA 10\.2.*CUDA 11\.0/);
  });

  it('ptx-too-new: ptx-unsupported, with the JIT log', async () => {
    const e = await withFakeCuda('ptx-too-new', () => rejection(gpuPot(0, seedOf('x'), 64, 1)));
    expect(e.code).toBe('native-unavailable');
    expect(e.details).toMatchObject({ reason: 'ptx-unsupported', call: 'cuModuleLoadDataEx', cuResult: 'CUDA_ERROR_UNSUPPORTED_PTX_VERSION' });
    expect(e.details?.['log']).toMatch(/Unsupported \.version/);
    expect(e.hint).toMatch(/upgrade the NVIDIA driver/);
  });

  it('oom: out-of-memory, naming cuMemAlloc_v2', async () => {
    const e = await withFakeCuda('oom', () => rejection(gpuPot(0, seedOf('x'), 64, 1)));
    expect(e.code).toBe('native-failed');
    expect(e.details).toMatchObject({ reason: 'out-of-memory', call: 'cuMemAlloc_v2', cuResult: 'CUDA_ERROR_OUT_OF_MEMORY' });
    expect(e.message).toMatch(/cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY .* at gpu\.cc:\d+/);
  });

  it('hang: times out, then refuses the device instead of hanging again', async () => {
    await withFakeCuda('hang', async () => {
      const e = await rejection(gpuPot(0, seedOf('x'), 64, 2, { timeoutMs: 150 }));
      expect(e.code).toBe('native-failed');
      expect(nativeReason(e)).toBe('timeout');
      expect(e.message).toMatch(/did not finish .* within 150 ms/);
      const again = await rejection(gpuBench(0, { quick: true, timeoutMs: 150 }));
      expect(nativeReason(again)).toBe('device-hung');
    });
  });

  it('an ordinal the driver does not have: bad-device', async () => {
    const e = await withFakeCuda('ok', () => rejection(gpuPot(3, seedOf('x'), 64, 1)));
    expect(nativeReason(e)).toBe('bad-device');
    expect(e.message).toMatch(/no GPU 3/);
  });

  it('a GPU without tensor cores: unsupported-device', async () => {
    const e = await withFakeCuda('ok', () => rejection(gpuBench(0, { quick: true })), '6.1');
    expect(nativeReason(e)).toBe('unsupported-device');
  });
});

describe('a working driver (the fake runs the PoT kernels on the CPU)', () => {
  it('lists devices as nvidia-smi names them', async () => {
    const inv = await withFakeCuda('ok', () => listGpus());
    expect(inv.driverVersion).toBe(12040);
    expect(inv.devices).toEqual([
      {
        ordinal: 0,
        name: 'NVIDIA H100 80GB HBM3',
        uuid: 'GPU-5f5fa2a3-6d4b-2b1c-9a4c-2a3bb5a0e8e1',
        pciBusId: '00000000:3B:00.0',
        computeCapability: '9.0',
        totalMemBytes: 85520809984,
        smCount: 132,
        clockKhz: 1980000,
        memClockKhz: 2619000,
        busWidthBits: 5120,
      },
    ]);
  });

  // 70 reps overrun the 64 host slots, so the ring of digest buffers is exercised.
  it('gpuPot (mma.sync module) matches proofs/pot.ts over more reps than host slots', async () => {
    const seed = seedOf('fake-mma');
    const want = computePot(seed, 64, 70);
    const got = await withFakeCuda('ok', () => gpuPot(0, seed, 64, 70, { keep: [0, 69, 33] }));
    expect(got.kernel).toBe('mma.sync');
    expect(got.repHashes.map(hex)).toEqual(want.repHashes.map(hex));
    expect(hex(merkleTreeHash(got.repHashes))).toBe(hex(want.root));
    for (const r of [0, 69, 33]) expect(hex(got.kept.get(r)!)).toBe(hex(want.repDigests[r]!));
    expect(got.smClockMhz).toBe(1980);
    expect(got.elapsedUs).toBeGreaterThan(0);
  });

  it('gpuPot (WMMA module, sm_75) pads n = 192 to the 128 tile and matches', async () => {
    const seed = seedOf('fake-wmma');
    const want = computePot(seed, 192, 2);
    const got = await withFakeCuda('ok', () => gpuPot(0, seed, 192, [1, 0], { keep: [1] }), '7.5');
    expect(got.kernel).toBe('wmma');
    expect(got.repHashes.map(hex)).toEqual([hex(want.repHashes[1]!), hex(want.repHashes[0]!)]);
    expect(hex(got.kept.get(1)!)).toBe(hex(want.repDigests[1]!));
  });

  it('gpuBench runs every phase and reports figures', async () => {
    const r = await withFakeCuda('ok', () => gpuBench(0, { quick: true }));
    for (const v of [r.memBwMBps, r.fp32Gflops, r.tensorGflops, r.h2dMBps, r.d2hMBps]) expect(v).toBeGreaterThan(0);
    expect(r.tensorKernel).toBe('mma.sync');
    expect(r.gemmN).toBe(4096);
    // The fake runs no FMA or GEMM kernel, so there is no clock sample: null, not 0.
    expect(r.fp32SmClockMhz).toBeNull();
  });
});
