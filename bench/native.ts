import { randomBytes } from 'node:crypto';
import { listGpus, gpuBench, gpuPot, nativeLoadError, verifyRows, type GpuInventory } from '../native/index.js';
import { specFor } from '../agent/bench/specs.js';
import { chooseChecks, computeCheckDigests, POT_DEFAULT_CHECKS } from '../proofs/pot.js';
import { goal, medianMs, type BenchSuite } from './suite.js';

const N = 4096;

/** pot.cpuVerifyMs beside pot.tsVerifyMs: recomputing k = 16 checked rows at n = 4096, B built once per verification. */
async function verification(): Promise<Record<string, unknown>> {
  const seed = new Uint8Array(randomBytes(32));
  const checks = chooseChecks(1024, N, POT_DEFAULT_CHECKS, randomBytes);
  const native = await verifyRows(seed, N, checks);
  const reference = computeCheckDigests(seed, N, checks);
  if (native.some((d, t) => !Buffer.from(d).equals(reference[t] as Uint8Array))) throw new Error('native and TypeScript row digests differ');
  const cpuVerifyMs = await medianMs(() => verifyRows(seed, N, checks), 7);
  const tsVerifyMs = await medianMs(() => computeCheckDigests(seed, N, checks), 3);
  const speedup = Math.round((tsVerifyMs / cpuVerifyMs) * 10) / 10;
  return { n: N, checks: checks.length, cpuVerifyMs: goal(cpuVerifyMs, '<=', 300), tsVerifyMs, speedup: goal(speedup, '>=', 3) };
}

/** On a GPU: memory bandwidth against the spec, and the PoT GEMM against the dense FP16 spec. */
async function gpu(inv: GpuInventory): Promise<Record<string, unknown>> {
  const device = inv.devices[0];
  if (device === undefined) return { skipped: 'no GPU' };
  const spec = specFor(device.name);
  const figures = await gpuBench(device.ordinal);
  const seed = new Uint8Array(randomBytes(32));
  // Size the run to about 3 s from a short probe, as a coordinator sizes a challenge.
  const probe = await gpuPot(device.ordinal, seed, N, 8);
  const reps = Math.max(8, Math.min(100_000, Math.round((3e6 / probe.elapsedUs) * 8)));
  const run = await gpuPot(device.ordinal, seed, N, reps);
  const potGflops = Math.round((2 * N ** 3 * reps) / run.elapsedUs / 1e3);
  const pct = (v: number, of: number | undefined): number | null => (of === undefined ? null : Math.round((v / of) * 1000) / 10);
  return {
    device: device.name,
    uuid: device.uuid,
    spec: spec?.model ?? null,
    memBwMBps: Math.round(figures.memBwMBps),
    memBwPercent: spec === undefined ? null : goal(pct(figures.memBwMBps, spec.memBwMBps) ?? 0, '>=', 85),
    fp32Gflops: Math.round(figures.fp32Gflops),
    tensorGflops: Math.round(figures.tensorGflops),
    tensorKernel: figures.tensorKernel,
    potReps: reps,
    potElapsedUs: Math.round(run.elapsedUs),
    potWallUs: Math.round(run.wallUs),
    potGflops,
    potPercentOfDenseFp16: spec === undefined ? null : goal(pct(potGflops, spec.tensorGflops) ?? 0, '>=', 50),
    smClockMhz: run.smClockMhz === null ? null : Math.round(run.smClockMhz),
    h2dMBps: Math.round(figures.h2dMBps),
    d2hMBps: Math.round(figures.d2hMBps),
  };
}

export const nativeSuite: BenchSuite = {
  name: 'native',
  async run() {
    const loadError = nativeLoadError();
    if (loadError !== undefined) throw loadError;
    const pot = await verification();
    let gpuFigures: Record<string, unknown>;
    try {
      gpuFigures = await gpu(await listGpus());
    } catch (e) {
      gpuFigures = { skipped: e instanceof Error ? e.message : String(e) };
    }
    return { pot, gpu: gpuFigures };
  },
};
