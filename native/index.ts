/**
 * The native addon (native/src, built by node-gyp at install): loader and
 * typed API. Everything here is optional to the rest of capanode: when the
 * addon cannot be loaded, callers get a CapanodeError('native-unavailable')
 * listing possible solutions and fall back to the TypeScript PoT.
 *
 * GPU calls run on worker threads and return promises. Their failures are
 * CapanodeErrors: 'native-unavailable' (no driver, no device, a driver too old
 * for the PTX...) or 'native-failed' (out of memory, a timeout...), with
 * `details: {reason, call, cuResult}` naming the driver call and its CUresult.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CapanodeError } from '../common/errors.js';
import { potKeys, POT_DIGEST_BYTES, POT_MAX_REPS, type PotCheck } from '../proofs/pot.js';

// ---------------------------------------------------------------------------
// Reasons and hints

export const UNAVAILABLE_REASONS = [
  'addon-missing',
  'driver-not-found',
  'driver-incomplete',
  'driver-init-failed',
  'insufficient-driver',
  'no-device',
  'bad-device',
  'device-unavailable',
  'unsupported-device',
  'ptx-unsupported',
] as const;
export const FAILED_REASONS = ['out-of-memory', 'timeout', 'device-hung', 'launch-failed', 'driver-error', 'self-check', 'internal'] as const;
export type UnavailableReason = (typeof UNAVAILABLE_REASONS)[number];
export type FailedReason = (typeof FAILED_REASONS)[number];
export type NativeReason = UnavailableReason | FailedReason;

const NO_TOOLKIT = 'No CUDA toolkit is needed, only the driver.';

/** What to do about each reason: the `hint` of the CapanodeError. */
export const NATIVE_HINTS: Record<NativeReason, string> = {
  'addon-missing': [
    'Possible solutions:',
    '- Rebuild the addon: `npm rebuild capanode` (or `npm ci` in a checkout); it needs a C++ compiler (g++ or clang++), make and python3.',
    '- After upgrading Node.js, rebuild it the same way: the addon is built for one Node-API version and platform.',
    '- Without the addon capanode still runs: PoT falls back to the (slower) TypeScript implementation on the CPU.',
  ].join('\n'),
  'driver-not-found': `Install the NVIDIA driver (nvidia-smi should work); in a container, start it with GPUs (NVIDIA Container Toolkit, --gpus all). ${NO_TOOLKIT} If libcuda.so.1 lives elsewhere, set CAPANODE_LIBCUDA to its path; if LD_LIBRARY_PATH names the CUDA toolkit's link-time libcuda directory (under the toolkit's lib64), take it off: that libcuda only satisfies the linker and runs nothing. Without a GPU, use --device cpu.`,
  'driver-incomplete': 'The library found is not the NVIDIA driver\'s libcuda (or is far too old): point CAPANODE_LIBCUDA at the driver\'s libcuda.so.1, or unset it.',
  'driver-init-failed': 'The driver is installed but did not initialise: check that nvidia-smi works, that the kernel module matches the driver (reboot after a driver upgrade), that the capanode user can open /dev/nvidia*, and on NVSwitch systems (HGX) that nvidia-fabricmanager is running.',
  'insufficient-driver': `Upgrade the NVIDIA driver to R450 (CUDA 11.0) or newer, and make sure the loaded libcuda matches the kernel module (a CUDA compat package or a container can mix them); nvidia-smi shows the version installed. ${NO_TOOLKIT}`,
  'no-device': 'The driver sees no GPU: check nvidia-smi, CUDA_VISIBLE_DEVICES, and that the container was given GPUs. The CPU can still be benchmarked with --device cpu.',
  'bad-device': 'Use a GPU ordinal that `capanode bench` lists (0-based), or --device cpu.',
  'device-unavailable': 'The GPU is in exclusive-process or prohibited compute mode, or taken by another process: check `nvidia-smi -q -d COMPUTE` and retry when it is free.',
  'unsupported-device': 'This GPU has no tensor cores (compute capability below 7.0) and cannot run the benchmark kernels; use --device cpu.',
  'ptx-unsupported': `The driver could not compile the benchmark kernels for this GPU (details.log has the JIT log): upgrade the NVIDIA driver to R450 or newer. ${NO_TOOLKIT}`,
  'out-of-memory': 'Free GPU memory (nvidia-smi lists the processes holding it), or run with --quick.',
  timeout: 'The GPU did not finish in time: it may be overloaded, throttled or failing (check nvidia-smi and dmesg for Xid errors). Restart capanode before using this GPU again.',
  'device-hung': 'An earlier run on this GPU never finished: restart capanode, and check the GPU (nvidia-smi, dmesg for Xid errors) before using it again.',
  'launch-failed': 'The GPU faulted while running a kernel: check dmesg for Xid errors and reset the GPU (or reboot); report it if it happens again.',
  'driver-error': 'The driver returned an unexpected error (details.cuResult): check nvidia-smi and dmesg, and report it if it happens again.',
  'self-check': 'The GPU produced wrong results (a faulty or overclocked GPU, or a bug): do not answer challenges with it; check dmesg for Xid errors and report it.',
  internal: 'This is a bug in capanode\'s native addon: please report it with this message.',
};

function isUnavailable(reason: string): reason is UnavailableReason {
  return (UNAVAILABLE_REASONS as readonly string[]).includes(reason);
}

function isNativeReason(reason: string): reason is NativeReason {
  return isUnavailable(reason) || (FAILED_REASONS as readonly string[]).includes(reason);
}

/** The reason of a native CapanodeError, or undefined for any other error. */
export function nativeReason(e: unknown): NativeReason | undefined {
  if (!(e instanceof CapanodeError) || (e.code !== 'native-unavailable' && e.code !== 'native-failed')) return undefined;
  const reason = e.details?.['reason'];
  return typeof reason === 'string' && isNativeReason(reason) ? reason : undefined;
}

/** Turns what the addon threw into a CapanodeError (anything unexpected is 'internal'). */
export function toNativeError(e: unknown): CapanodeError {
  if (e instanceof CapanodeError) return e;
  const raw = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
  const text = (k: string): string | undefined => (typeof raw[k] === 'string' ? raw[k] : undefined);
  const message = e instanceof Error ? e.message : String(e);
  const given = text('reason') ?? 'internal';
  const reason: NativeReason = isNativeReason(given) ? given : 'internal';
  const details: Record<string, unknown> = { reason, call: text('call') ?? null, cuResult: text('cuResult') ?? null };
  const log = text('log');
  if (log !== undefined) details['log'] = log;
  return new CapanodeError(isUnavailable(reason) ? 'native-unavailable' : 'native-failed', message, { hint: NATIVE_HINTS[reason], cause: e, details });
}

// ---------------------------------------------------------------------------
// The raw addon (native/src/addon.cc)

interface RawPotResult {
  repHashes: Buffer;
  kept: Buffer;
  elapsedUs: number;
  wallUs: number;
  smClockMhz: number;
  kernel: string;
}

interface RawAddon {
  abi: number;
  devices(): Promise<GpuInventory>;
  gpuBench(device: number, quick: boolean, timeoutMs: number): Promise<RawGpuBench>;
  gpuPot(device: number, keys: Uint32Array, n: number, reps: number | Uint32Array, keep: Uint32Array, timeoutMs: number): Promise<RawPotResult>;
  cpuPot(keys: Uint32Array, n: number, reps: number | Uint32Array, keep: Uint32Array, threads: number): Promise<RawPotResult>;
  cpuVerifyRows(keys: Uint32Array, n: number, checks: Uint32Array, threads: number): Promise<Buffer>;
  cpuVerifyRowsSync(keys: Uint32Array, n: number, checks: Uint32Array, threads: number): Buffer;
  cpuBench(quick: boolean, threads: number): Promise<CpuBenchFigures>;
  cpuThreads(): number;
  sdNotify(state: string): boolean;
}

/** As the addon returns them: a clock of 0 means no sample. */
type RawGpuBench = Omit<GpuBenchFigures, 'fp32SmClockMhz' | 'tensorSmClockMhz'> & { fp32SmClockMhz: number; tensorSmClockMhz: number };

/** The addon's interface version; native/src/addon.cc exports the same number. */
const ADDON_ABI = 1;
const ADDON_FILE = 'capanode_native.node';

/** The package root: the nearest folder above this file with capanode's package.json (sources or dist/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'capanode') return dir;
      } catch {
        // not ours: keep climbing
      }
    }
    const up = dirname(dir);
    if (up === dir) return dirname(dirname(fileURLToPath(import.meta.url)));
    dir = up;
  }
}

/** Where a built addon may be, in order. */
export function addonCandidates(root = packageRoot()): string[] {
  return [join(root, 'native', 'build', 'Release', ADDON_FILE), join(root, 'native', 'build', 'Debug', ADDON_FILE)];
}

let cached: { addon: RawAddon } | { error: CapanodeError } | undefined;

/** Tries each candidate, collecting why each failed, as sharp's loader does. */
function loadAddon(): RawAddon {
  if (cached === undefined) {
    const require = createRequire(import.meta.url);
    const tried: string[] = [];
    for (const path of addonCandidates()) {
      if (!existsSync(path)) {
        tried.push(`${path}: not built`);
        continue;
      }
      try {
        const addon = require(path) as RawAddon;
        if (addon.abi !== ADDON_ABI) {
          tried.push(`${path}: built from other sources (interface ${String(addon.abi)}, expected ${ADDON_ABI})`);
          continue;
        }
        cached = { addon };
        break;
      } catch (e) {
        tried.push(`${path}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    cached ??= {
      error: new CapanodeError('native-unavailable', `capanode's native addon could not be loaded (${process.platform}-${process.arch}, Node ${process.versions.node})`, {
        hint: NATIVE_HINTS['addon-missing'],
        details: { reason: 'addon-missing', call: null, cuResult: null, tried },
      }),
    };
  }
  if ('error' in cached) throw cached.error;
  return cached.addon;
}

/** Whether the addon loaded (it says nothing about a GPU). */
export function nativeAvailable(): boolean {
  try {
    loadAddon();
    return true;
  } catch {
    return false;
  }
}

/** The CapanodeError explaining why the addon did not load, or undefined when it did. */
export function nativeLoadError(): CapanodeError | undefined {
  try {
    loadAddon();
    return undefined;
  } catch (e) {
    return toNativeError(e);
  }
}

async function call<T>(fn: (addon: RawAddon) => Promise<T>): Promise<T> {
  try {
    return await fn(loadAddon());
  } catch (e) {
    throw toNativeError(e);
  }
}

// ---------------------------------------------------------------------------
// Devices and benchmarks

export interface GpuDevice {
  ordinal: number;
  name: string;
  /** As nvidia-smi prints it (GPU-xxxxxxxx-...), so it joins with the probe. */
  uuid: string;
  /** As nvidia-smi prints it (00000000:3B:00.0). */
  pciBusId: string;
  /** "9.0" */
  computeCapability: string;
  totalMemBytes: number;
  smCount: number;
  /** Rated SM and memory clocks (kHz) and memory bus width, as the driver reports them. */
  clockKhz: number;
  memClockKhz: number;
  busWidthBits: number;
}

export interface GpuInventory {
  driverPath: string;
  /** 1000 * major + 10 * minor of the CUDA version the driver supports (12040 = 12.4). */
  driverVersion: number;
  devices: GpuDevice[];
}

/** The GPUs the driver reports. Rejects with 'native-unavailable' when there is no driver or no GPU. */
export function listGpus(): Promise<GpuInventory> {
  return call((a) => a.devices());
}

export interface GpuBenchFigures {
  memBwMBps: number;
  fp32Gflops: number;
  tensorGflops: number;
  h2dMBps: number;
  d2hMBps: number;
  /** SM clock seen during the FP32 and the tensor runs; null when the GPU reported none. */
  fp32SmClockMhz: number | null;
  tensorSmClockMhz: number | null;
  /** "mma.sync" (sm_80+) or "wmma". */
  tensorKernel: string;
  gemmN: number;
  memBytes: number;
  copyBytes: number;
}

export interface GpuBenchOptions {
  quick?: boolean;
  /** Whole run; past it the GPU is reported hung. Default 120 s. */
  timeoutMs?: number;
}

const orNull = (v: number): number | null => (v > 0 ? v : null);

/** Memory bandwidth, FP32 and FP16 tensor throughput, pinned copies, on one GPU. */
export async function gpuBench(device: number, options: GpuBenchOptions = {}): Promise<GpuBenchFigures> {
  assertOrdinal(device);
  const r = await call((a) => a.gpuBench(device, options.quick === true, options.timeoutMs ?? 120_000));
  return { ...r, fp32SmClockMhz: orNull(r.fp32SmClockMhz), tensorSmClockMhz: orNull(r.tensorSmClockMhz) };
}

export interface CpuBenchFigures {
  /** memcpy bandwidth over all cores, bytes read plus written, MB/s. */
  memBwMBps: number;
  /** FP32 multiply-add throughput over all cores (widest vector unit available). */
  fp32Gflops: number;
  /** "avx512f", "avx2+fma" or "generic". */
  isa: string;
  threads: number;
}

export function cpuBench(options: { quick?: boolean; threads?: number } = {}): Promise<CpuBenchFigures> {
  return call((a) => a.cpuBench(options.quick === true, options.threads ?? 0));
}

function assertOrdinal(device: number): void {
  if (!Number.isSafeInteger(device) || device < 0 || device > 1023) {
    throw new CapanodeError('bad-input', `GPU ordinal ${device} is not an integer in [0, 1023]`, { hint: 'pass a GPU number from `capanode bench`, or cpu' });
  }
}

// ---------------------------------------------------------------------------
// Proof of Throughput

export interface NativePotResult {
  /** repHash(r) for each rep computed, in the order asked. */
  repHashes: Uint8Array[];
  /** The 8n bytes of digests of each kept rep. */
  kept: Map<number, Uint8Array>;
  /** GPU: CUDA events around the whole run. CPU: wall clock. */
  elapsedUs: number;
  wallUs: number;
  smClockMhz: number | null;
  /** "mma.sync", "wmma" or "cpu". */
  kernel: string;
}

export interface PotRunOptions {
  /** Reps whose digests to return (for a reveal); each must be among those computed. */
  keep?: readonly number[];
  /** GPU only: whole run, default 10 min. */
  timeoutMs?: number;
  /** CPU only: threads, default every core. */
  threads?: number;
}

/** Largest n the native code accepts (B is 2n² bytes). */
export const NATIVE_MAX_N = 16384;

function keysOf(seed: Uint8Array): Uint32Array {
  const k = potKeys(seed);
  return new Uint32Array([k.k0, k.k1, k.k2, k.k3]);
}

function badInput(message: string, hint: string): CapanodeError {
  return new CapanodeError('bad-input', message, { hint });
}

function assertN(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1 || n > NATIVE_MAX_N) throw badInput(`PoT n = ${n} is not an integer in [1, ${NATIVE_MAX_N}]`, 'use the n of the challenge');
}

function repList(reps: number | readonly number[]): { arg: number | Uint32Array; list: readonly number[] } {
  if (typeof reps === 'number') {
    if (!Number.isSafeInteger(reps) || reps < 1 || reps > POT_MAX_REPS) throw badInput(`PoT reps = ${reps} is not an integer in [1, ${POT_MAX_REPS}]`, 'use the reps of the challenge');
    return { arg: reps, list: [] };
  }
  if (reps.length === 0) throw badInput('no reps to compute', 'list at least one rep');
  for (const r of reps) {
    if (!Number.isSafeInteger(r) || r < 0 || r >= POT_MAX_REPS) throw badInput(`rep index ${r} is not an integer in [0, ${POT_MAX_REPS})`, 'use rep indices below the challenge\'s reps');
  }
  return { arg: Uint32Array.from(reps), list: reps };
}

function keepList(reps: number | readonly number[], keep: readonly number[] | undefined): Uint32Array {
  const wanted = keep ?? [];
  const computed = typeof reps === 'number' ? undefined : new Set(reps);
  for (const r of wanted) {
    const ok = Number.isSafeInteger(r) && r >= 0 && (computed === undefined ? r < (reps as number) : computed.has(r));
    if (!ok) throw badInput(`cannot keep the digests of rep ${r}: it is not computed`, 'keep only reps the run computes');
  }
  return Uint32Array.from(wanted);
}

function unpack(raw: RawPotResult, n: number, keep: Uint32Array): NativePotResult {
  const repHashes: Uint8Array[] = [];
  for (let at = 0; at < raw.repHashes.length; at += 32) repHashes.push(new Uint8Array(raw.repHashes.subarray(at, at + 32)));
  const kept = new Map<number, Uint8Array>();
  const repBytes = n * POT_DIGEST_BYTES;
  keep.forEach((r, k) => kept.set(r, new Uint8Array(raw.kept.subarray(k * repBytes, (k + 1) * repBytes))));
  return { repHashes, kept, elapsedUs: raw.elapsedUs, wallUs: raw.wallUs, smClockMhz: orNull(raw.smClockMhz), kernel: raw.kernel };
}

/**
 * PoT on GPU `device` (DESIGN §6): reps 0..reps-1 (a count) or the listed
 * reps, each hashed into repHash(r); the digests of `keep` reps returned.
 */
export async function gpuPot(device: number, seed: Uint8Array, n: number, reps: number | readonly number[], options: PotRunOptions = {}): Promise<NativePotResult> {
  assertOrdinal(device);
  assertN(n);
  const keys = keysOf(seed);
  const { arg } = repList(reps);
  const keep = keepList(reps, options.keep);
  const raw = await call((a) => a.gpuPot(device, keys, n, arg, keep, options.timeoutMs ?? 600_000));
  return unpack(raw, n, keep);
}

/** PoT on the CPU, every core, same results as gpuPot and proofs/pot.ts. */
export async function cpuPot(seed: Uint8Array, n: number, reps: number | readonly number[], options: PotRunOptions = {}): Promise<NativePotResult> {
  assertN(n);
  const keys = keysOf(seed);
  const { arg } = repList(reps);
  const keep = keepList(reps, options.keep);
  const raw = await call((a) => a.cpuPot(keys, n, arg, keep, options.threads ?? 0));
  return unpack(raw, n, keep);
}

function checksArg(n: number, checks: readonly PotCheck[]): Uint32Array {
  const flat = new Uint32Array(checks.length * 2);
  checks.forEach(([r, i], t) => {
    if (!Number.isSafeInteger(r) || r < 0 || r >= POT_MAX_REPS || !Number.isSafeInteger(i) || i < 0 || i >= n) {
      throw badInput(`check [${r}, ${i}] is outside ${POT_MAX_REPS} reps × ${n} rows`, `pass checks with 0 <= r < ${POT_MAX_REPS} and 0 <= i < n`);
    }
    flat[2 * t] = r;
    flat[2 * t + 1] = i;
  });
  return flat;
}

function splitDigests(buf: Buffer): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < buf.length; at += POT_DIGEST_BYTES) out.push(new Uint8Array(buf.subarray(at, at + POT_DIGEST_BYTES)));
  return out;
}

/**
 * digest(r, i) for each check, in order (B built once, rows on every core):
 * the coordinator's fast check of a reveal, off the event loop.
 */
export async function verifyRows(seed: Uint8Array, n: number, checks: readonly PotCheck[], options: { threads?: number } = {}): Promise<Uint8Array[]> {
  assertN(n);
  const keys = keysOf(seed);
  const flat = checksArg(n, checks);
  return splitDigests(await call((a) => a.cpuVerifyRows(keys, n, flat, options.threads ?? 0)));
}

/** verifyRows on the calling thread: a drop-in `rowDigests` for proofs/pot.ts verifyReveal. */
export function verifyRowsSync(seed: Uint8Array, n: number, checks: readonly PotCheck[]): Uint8Array[] {
  assertN(n);
  const keys = keysOf(seed);
  const flat = checksArg(n, checks);
  try {
    return splitDigests(loadAddon().cpuVerifyRowsSync(keys, n, flat, 0));
  } catch (e) {
    throw toNativeError(e);
  }
}

/** Threads the native CPU paths use by default (every core). */
export function cpuThreads(): number {
  return loadAddon().cpuThreads();
}

// ---------------------------------------------------------------------------
// systemd

/**
 * sd_notify(3): sends `state` ("READY=1", "STOPPING=1", "STATUS=...") to
 * $NOTIFY_SOCKET for Type=notify units. False, doing nothing, outside
 * systemd or without the addon.
 */
export function sdNotify(state: string): boolean {
  try {
    return loadAddon().sdNotify(state);
  } catch {
    return false;
  }
}
