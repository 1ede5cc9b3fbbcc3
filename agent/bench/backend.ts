/**
 * What agent/bench needs from native/: a seam, so tests can stand in a
 * backend whose addon failed to load or whose GPU misbehaves.
 */
import { cpuBench, cpuPot, gpuBench, gpuPot, listGpus, nativeLoadError, verifyRows } from '../../native/index.js';

export interface BenchBackend {
  /** Why the addon did not load, or undefined when it did. */
  loadError: typeof nativeLoadError;
  listGpus: typeof listGpus;
  gpuBench: typeof gpuBench;
  cpuBench: typeof cpuBench;
  gpuPot: typeof gpuPot;
  cpuPot: typeof cpuPot;
  verifyRows: typeof verifyRows;
}

export const nativeBackend: BenchBackend = { loadError: nativeLoadError, listGpus, gpuBench, cpuBench, gpuPot, cpuPot, verifyRows };
