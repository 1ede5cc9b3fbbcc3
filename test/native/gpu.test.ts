/**
 * On a real GPU: the CUDA kernels against the CPU reference. Skipped, saying
 * why, on machines without an NVIDIA driver and GPU (the suite's usual home);
 * test/native/driver.test.ts covers the host side there with a fake driver.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { describeError } from '../../common/errors.js';
import { cpuPot, gpuBench, gpuPot, listGpus, verifyRows, type GpuInventory } from '../../native/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const seedOf = (label: string): Uint8Array => new Uint8Array(createHash('sha256').update(`capanode:test-seed:${label}`).digest());

let inventory: GpuInventory | undefined;
let why = '';
if (process.env['CAPANODE_LIBCUDA'] === undefined) {
  try {
    inventory = await listGpus();
  } catch (e) {
    why = describeError(e).split('\n')[0] ?? '';
  }
} else {
  why = 'CAPANODE_LIBCUDA is set (a test driver, not a GPU)';
}
const gpu = inventory?.devices[0];
// Said once per run, not only in the skipped suite's name.
if (gpu === undefined) console.info(`GPU tests skipped: no GPU here (${why})`);

describe.skipIf(gpu === undefined)(gpu === undefined ? `GPU tests skipped: no GPU here (${why})` : `GPU 0: ${gpu.name}`, () => {
  it.each([
    [64, 3],
    [192, 2],
    [256, 5],
    [1024, 2],
    [4096, 2],
  ])('PoT on the GPU equals the CPU at n = %i, reps = %i', async (n, reps) => {
    const seed = seedOf(`gpu-${n}`);
    const keep = [reps - 1];
    const [onGpu, onCpu] = await Promise.all([gpuPot(0, seed, n, reps, { keep }), cpuPot(seed, n, reps, { keep })]);
    expect(onGpu.repHashes.map(hex)).toEqual(onCpu.repHashes.map(hex));
    expect(hex(onGpu.kept.get(reps - 1)!)).toBe(hex(onCpu.kept.get(reps - 1)!));
    expect(onGpu.smClockMhz).toBeGreaterThan(100);
  }, 120_000);

  it('a GPU rep agrees row by row with verifyRows', async () => {
    const seed = seedOf('gpu-rows');
    const run = await gpuPot(0, seed, 4096, [7], { keep: [7] });
    const rows = await verifyRows(seed, 4096, [
      [7, 0],
      [7, 4095],
      [7, 2049],
    ]);
    const digests = run.kept.get(7)!;
    expect(rows.map(hex)).toEqual([0, 4095, 2049].map((i) => hex(digests.subarray(i * 8, i * 8 + 8))));
  }, 120_000);

  it('benchmarks every figure', async () => {
    const r = await gpuBench(0, { quick: true });
    for (const v of [r.memBwMBps, r.fp32Gflops, r.tensorGflops, r.h2dMBps, r.d2hMBps]) expect(v).toBeGreaterThan(0);
    expect(r.tensorSmClockMhz).toBeGreaterThan(100);
  }, 120_000);
});
