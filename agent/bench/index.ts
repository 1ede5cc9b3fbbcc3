/** Local benchmarks and PoT answers, over the native addon (DESIGN §6, §7). */
export { nativeBackend, type BenchBackend } from './backend.js';
export { runLocalBench, type BenchReport, type DeviceBench, type DeviceChoice, type GpuAvailability, type LocalBenchOptions, type LocalFigures } from './local.js';
export { answerPot, checkDigests, type PotAnswer, type PotBackendKind, type PotJob } from './pot.js';
export { percentOf, specFor, type GpuSpec } from './specs.js';
