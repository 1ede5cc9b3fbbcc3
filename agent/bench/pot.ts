/**
 * Answering a PoT challenge (DESIGN §6): compute every rep on the chosen
 * device, commit the root, then reveal the checked reps. A GPU run keeps
 * only the 32-byte rep hashes (thousands of reps at n = 4096 would be
 * gigabytes of digests) and recomputes the few checked reps for a reveal;
 * the CPU keeps its (few) reps' digests when they fit. Without the native
 * addon the CPU answer comes from proofs/pot.ts, slowly but correctly.
 */
import { randomInt } from 'node:crypto';
import { CapanodeError } from '../../common/errors.js';
import { NATIVE_HINTS, nativeReason } from '../../native/index.js';
import { merkleTreeHash } from '../../proofs/merkle.js';
import {
  buildReveal,
  computeCheckDigests,
  computePot,
  potParamsProblem,
  repHash,
  POT_DIGEST_BYTES,
  type PotCheck,
  type RevealItem,
} from '../../proofs/pot.js';
import { nativeBackend, type BenchBackend } from './backend.js';

export interface PotJob {
  seed: Uint8Array;
  n: number;
  reps: number;
  /** A GPU ordinal or "cpu". */
  device: 'cpu' | number;
  /** GPU: the whole run; past it the GPU is reported hung. */
  timeoutMs?: number;
  /** Lift the protocol's bounds on n (n = 8 for the test vector). */
  allowTinyN?: boolean;
}

export type PotBackendKind = 'gpu' | 'cpu-native' | 'cpu-ts';

export interface PotAnswer {
  root: Uint8Array;
  /** The device's own timing of the run (CUDA events on a GPU). */
  elapsedUs: number;
  /** GPU UUID or "cpu": what the commit names. */
  device: string;
  /** 2·n³·reps / elapsed. */
  gflops: number;
  backend: PotBackendKind;
  /** "mma.sync", "wmma", "cpu" or "typescript". */
  kernel: string;
  smClockMhz: number | null;
  repHashes: Uint8Array[];
  /** Why a CPU answer came from TypeScript (the addon did not load), else undefined. */
  fallbackReason?: string;
  /** The reveal for `open`: one item per checked rep, with all its digests and its audit path. */
  reveal(checks: readonly PotCheck[]): Promise<RevealItem[]>;
  /**
   * GPU: recomputes a few rows of one rep on the CPU and compares, so a
   * faulty GPU is caught before it fails a challenge. Throws 'native-failed'
   * (reason self-check) on a mismatch. Not timing-critical: run it after the commit.
   */
  selfCheck(): Promise<void>;
}

/** Digests of the CPU's reps are kept for the reveal up to this many bytes; beyond, checked reps are recomputed. */
const KEEP_LIMIT_BYTES = 64 * 2 ** 20;

const gflopsOf = (n: number, reps: number, us: number): number => (us > 0 ? (2 * n ** 3 * reps) / us / 1e3 : 0);

function checkedReps(checks: readonly PotCheck[], reps: number): number[] {
  const out = [...new Set(checks.map(([r]) => r))].sort((a, b) => a - b);
  const bad = out.find((r) => !Number.isSafeInteger(r) || r < 0 || r >= reps);
  if (bad !== undefined) throw new CapanodeError('bad-input', `checked rep ${bad} is outside the ${reps} reps of this run`, { hint: 'check reps below the challenge\'s reps' });
  return out;
}

function selfCheckFailure(message: string, details: Record<string, unknown>): CapanodeError {
  return new CapanodeError('native-failed', message, {
    hint: NATIVE_HINTS['self-check'],
    details: { reason: 'self-check', call: null, cuResult: null, ...details },
  });
}

function sameHashes(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((h, k) => Buffer.from(h).equals(b[k] as Uint8Array));
}

function rowOf(digests: Uint8Array, i: number): Uint8Array {
  return digests.subarray(i * POT_DIGEST_BYTES, (i + 1) * POT_DIGEST_BYTES);
}

async function onGpu(job: PotJob, ordinal: number, backend: BenchBackend): Promise<PotAnswer> {
  const { seed, n, reps } = job;
  const inv = await backend.listGpus();
  const gpu = inv.devices.find((d) => d.ordinal === ordinal);
  if (gpu === undefined) {
    throw new CapanodeError('native-unavailable', `there is no GPU ${ordinal}: this machine has ${inv.devices.length}`, {
      hint: 'Use a GPU number `capanode bench` lists, or --device cpu.',
      details: { reason: 'bad-device', call: null, cuResult: null },
    });
  }
  const timeout = job.timeoutMs === undefined ? {} : { timeoutMs: job.timeoutMs };
  const probeRep = randomInt(reps);
  const run = await backend.gpuPot(ordinal, seed, n, reps, { keep: [probeRep], ...timeout });
  const repHashes = run.repHashes;

  return {
    root: merkleTreeHash(repHashes),
    elapsedUs: Math.round(run.elapsedUs),
    device: gpu.uuid,
    gflops: gflopsOf(n, reps, run.elapsedUs),
    backend: 'gpu',
    kernel: run.kernel,
    smClockMhz: run.smClockMhz,
    repHashes,
    async reveal(checks) {
      const wanted = checkedReps(checks, reps);
      const again = await backend.gpuPot(ordinal, seed, n, wanted, { keep: wanted, ...timeout });
      // A reveal must open what was committed: recomputation has to give the same rep hashes.
      if (!sameHashes(again.repHashes, wanted.map((r) => repHashes[r] as Uint8Array))) {
        throw selfCheckFailure(`GPU ${ordinal} computed different rep hashes for reps ${wanted.join(', ')} the second time`, { reps: wanted });
      }
      return buildReveal({ checks, repHashes, repDigests: (r) => again.kept.get(r) as Uint8Array });
    },
    async selfCheck() {
      const digests = run.kept.get(probeRep) as Uint8Array;
      if (!Buffer.from(repHash(probeRep, digests)).equals(repHashes[probeRep] as Uint8Array)) {
        throw selfCheckFailure(`the native rep hash of rep ${probeRep} differs from proofs/pot.ts`, { rep: probeRep });
      }
      const rows = [randomInt(n), randomInt(n)];
      const checks = rows.map((i): PotCheck => [probeRep, i]);
      const want = await backend.verifyRows(seed, n, checks);
      rows.forEach((i, t) => {
        if (!Buffer.from(rowOf(digests, i)).equals(want[t] as Uint8Array)) {
          throw selfCheckFailure(`GPU ${ordinal} computed row ${i} of rep ${probeRep} wrongly (the CPU reference disagrees)`, { rep: probeRep, row: i });
        }
      });
    },
  };
}

async function onCpu(job: PotJob, backend: BenchBackend): Promise<PotAnswer> {
  const { seed, n, reps } = job;
  const keepAll = reps * n * POT_DIGEST_BYTES <= KEEP_LIMIT_BYTES;
  const run = await backend.cpuPot(seed, n, reps, keepAll ? { keep: Array.from({ length: reps }, (_, r) => r) } : {});
  const repHashes = run.repHashes;
  return {
    root: merkleTreeHash(repHashes),
    elapsedUs: Math.round(run.elapsedUs),
    device: 'cpu',
    gflops: gflopsOf(n, reps, run.elapsedUs),
    backend: 'cpu-native',
    kernel: run.kernel,
    smClockMhz: null,
    repHashes,
    async reveal(checks) {
      const wanted = checkedReps(checks, reps);
      const missing = wanted.filter((r) => !run.kept.has(r));
      const again = missing.length === 0 ? undefined : await backend.cpuPot(seed, n, missing, { keep: missing });
      if (again !== undefined && !sameHashes(again.repHashes, missing.map((r) => repHashes[r] as Uint8Array))) {
        throw selfCheckFailure(`the CPU computed different rep hashes for reps ${missing.join(', ')} the second time`, { reps: missing });
      }
      return buildReveal({ checks, repHashes, repDigests: (r) => (run.kept.get(r) ?? again?.kept.get(r)) as Uint8Array });
    },
    selfCheck: () => Promise.resolve(),
  };
}

function inTypeScript(job: PotJob, why: string): PotAnswer {
  const { seed, n, reps } = job;
  const t0 = performance.now();
  const proof = computePot(seed, n, reps);
  const elapsedUs = Math.round((performance.now() - t0) * 1000);
  return {
    root: proof.root,
    elapsedUs,
    device: 'cpu',
    gflops: gflopsOf(n, reps, elapsedUs),
    backend: 'cpu-ts',
    kernel: 'typescript',
    smClockMhz: null,
    repHashes: proof.repHashes,
    fallbackReason: why,
    reveal: (checks) => {
      checkedReps(checks, reps);
      return Promise.resolve(buildReveal({ checks, ...proof }));
    },
    selfCheck: () => Promise.resolve(),
  };
}

/**
 * Computes a PoT answer on `job.device`. The CPU uses the native addon, or
 * proofs/pot.ts when the addon did not load; a GPU needs the addon and its
 * driver, and its failures are thrown as 'native-unavailable' / 'native-failed'.
 */
export async function answerPot(job: PotJob, backend: BenchBackend = nativeBackend): Promise<PotAnswer> {
  const problem = potParamsProblem(job.n, job.reps, { allowTinyN: job.allowTinyN === true });
  if (problem !== undefined) throw new CapanodeError('bad-input', `invalid PoT parameters: ${problem}`, { hint: 'use n a multiple of 64 in [64, 4096] and reps >= 1' });
  const loadError = backend.loadError();
  if (job.device === 'cpu') {
    if (loadError !== undefined) return inTypeScript(job, loadError.message);
    try {
      return await onCpu(job, backend);
    } catch (e) {
      // The addon loaded but its CPU path failed (out of memory...): the reference still answers.
      if (nativeReason(e) === undefined) throw e;
      return inTypeScript(job, e instanceof Error ? e.message : String(e));
    }
  }
  if (loadError !== undefined) throw loadError;
  return onGpu(job, job.device, backend);
}

/** digest(r, i) of each check, recomputed natively when the addon is there, else by proofs/pot.ts. */
export async function checkDigests(seed: Uint8Array, n: number, checks: readonly PotCheck[], backend: BenchBackend = nativeBackend): Promise<Uint8Array[]> {
  if (backend.loadError() !== undefined) return computeCheckDigests(seed, n, checks);
  return backend.verifyRows(seed, n, checks);
}
