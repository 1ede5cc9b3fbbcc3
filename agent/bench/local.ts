/**
 * `capanode bench`: the local figures of a throughput attestation (DESIGN §4
 * body.local) for each device, with the vendor's spec and the share of it
 * reached where the model is known.
 */
import { cpus } from 'node:os';
import { CapanodeError, isCapanodeError } from '../../common/errors.js';
import type { GpuDevice } from '../../native/index.js';
import { nativeBackend, type BenchBackend } from './backend.js';
import { percentOf, specFor, type GpuSpec } from './specs.js';

/** DESIGN §4 throughput body `local`: integers in MB/s and GFLOP/s; null where a device has no such figure. */
export interface LocalFigures {
  memBwMBps: number;
  fp32Gflops: number;
  tensorGflops: number | null;
  h2dMBps: number | null;
  d2hMBps: number | null;
}

export interface DeviceBench {
  /** GPU UUID as nvidia-smi prints it, or "cpu". */
  device: string;
  kind: 'gpu' | 'cpu';
  ordinal: number | null;
  name: string;
  local: LocalFigures;
  /** SM clock seen during the tensor run (GPU), MHz. */
  smClockMhz: number | null;
  spec: GpuSpec | null;
  percentOfSpec: { memBw: number | null; fp32: number | null; tensor: number | null } | null;
  /** How it was measured: kernels, sizes, instruction set. */
  method: Record<string, string | number | null>;
}

/** Whether GPUs could be used, and why not. */
export type GpuAvailability = { available: true; driverVersion: number; count: number } | { available: false; reason: string; message: string; hint: string | null };

export interface BenchReport {
  devices: DeviceBench[];
  gpu: GpuAvailability;
}

export type DeviceChoice = 'cpu' | number;

export interface LocalBenchOptions {
  /** One device; default every GPU, or the CPU when there is none. */
  device?: DeviceChoice;
  quick?: boolean;
  timeoutMs?: number;
}

const int = (v: number): number => Math.round(v);

function unavailable(e: unknown): GpuAvailability {
  const reason = isCapanodeError(e) && typeof e.details?.['reason'] === 'string' ? e.details['reason'] : 'unknown';
  return { available: false, reason, message: e instanceof Error ? e.message : String(e), hint: isCapanodeError(e) ? (e.hint ?? null) : null };
}

async function benchGpu(gpu: GpuDevice, options: LocalBenchOptions, backend: BenchBackend): Promise<DeviceBench> {
  const r = await backend.gpuBench(gpu.ordinal, { quick: options.quick === true, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) });
  const local: LocalFigures = {
    memBwMBps: int(r.memBwMBps),
    fp32Gflops: int(r.fp32Gflops),
    tensorGflops: int(r.tensorGflops),
    h2dMBps: int(r.h2dMBps),
    d2hMBps: int(r.d2hMBps),
  };
  const spec = specFor(gpu.name) ?? null;
  return {
    device: gpu.uuid,
    kind: 'gpu',
    ordinal: gpu.ordinal,
    name: gpu.name,
    local,
    smClockMhz: r.tensorSmClockMhz === null ? null : int(r.tensorSmClockMhz),
    spec,
    percentOfSpec:
      spec === null
        ? null
        : { memBw: percentOf(local.memBwMBps, spec.memBwMBps), fp32: percentOf(local.fp32Gflops, spec.fp32Gflops), tensor: percentOf(local.tensorGflops, spec.tensorGflops) },
    method: {
      computeCapability: gpu.computeCapability,
      pciBusId: gpu.pciBusId,
      tensorKernel: r.tensorKernel,
      gemmN: r.gemmN,
      fp32SmClockMhz: r.fp32SmClockMhz === null ? null : int(r.fp32SmClockMhz),
      memBufferMiB: int(r.memBytes / 2 ** 20),
      copyBufferMiB: int(r.copyBytes / 2 ** 20),
    },
  };
}

async function benchCpu(options: LocalBenchOptions, backend: BenchBackend): Promise<DeviceBench> {
  const r = await backend.cpuBench({ quick: options.quick === true });
  return {
    device: 'cpu',
    kind: 'cpu',
    ordinal: null,
    name: cpus()[0]?.model.trim() ?? 'CPU',
    local: { memBwMBps: int(r.memBwMBps), fp32Gflops: int(r.fp32Gflops), tensorGflops: null, h2dMBps: null, d2hMBps: null },
    smClockMhz: null,
    spec: null,
    percentOfSpec: null,
    method: { isa: r.isa, threads: r.threads },
  };
}

/**
 * Benchmarks the chosen device, or every GPU (the CPU when there is none).
 * Asking for a GPU that cannot be used throws its CapanodeError; asking for
 * nothing in particular on a machine without GPUs benchmarks the CPU and
 * reports why the GPUs were not used.
 */
export async function runLocalBench(options: LocalBenchOptions = {}, backend: BenchBackend = nativeBackend): Promise<BenchReport> {
  const loadError = backend.loadError();
  if (loadError !== undefined) throw loadError;
  let gpus: GpuDevice[] = [];
  let gpu: GpuAvailability;
  try {
    const inv = await backend.listGpus();
    gpus = inv.devices;
    gpu = { available: true, driverVersion: inv.driverVersion, count: gpus.length };
  } catch (e) {
    if (typeof options.device === 'number') throw e;
    gpu = unavailable(e);
  }
  const devices: DeviceBench[] = [];
  if (options.device === 'cpu' || (options.device === undefined && gpus.length === 0)) {
    devices.push(await benchCpu(options, backend));
  } else {
    const chosen = options.device === undefined ? gpus : gpus.filter((g) => g.ordinal === options.device);
    if (chosen.length === 0) {
      throw new CapanodeError('native-unavailable', `there is no GPU ${String(options.device)}: this machine has ${gpus.length}`, {
        hint: 'Use a GPU number `capanode bench` lists, or --device cpu.',
        details: { reason: 'bad-device', call: null, cuResult: null },
      });
    }
    // One at a time: GPUs share the host's PCIe and memory, which the copy figures measure.
    for (const g of chosen) devices.push(await benchGpu(g, options, backend));
  }
  return { devices, gpu };
}
