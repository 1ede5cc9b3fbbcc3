/**
 * Simulated GPUs: dense FP16 tensor throughput (GFLOP/s) of common classes,
 * the figure a PoT verdict measures on a healthy card.
 */
import type { Prng } from './prng.js';

export const DEVICE_CLASSES = {
  rtx3090: 71_000,
  rtx4090: 165_000,
  a100: 312_000,
  h100: 989_000,
} as const;

export type DeviceClass = keyof typeof DEVICE_CLASSES;

const CLASS_WEIGHTS: readonly [DeviceClass, number][] = [
  ['rtx3090', 30],
  ['rtx4090', 35],
  ['a100', 20],
  ['h100', 15],
];
const GPU_COUNTS: readonly [number, number][] = [
  [1, 60],
  [2, 15],
  [4, 15],
  [8, 10],
];

function weighted<T>(rng: Prng, table: readonly [T, number][]): T {
  const total = table.reduce((s, [, w]) => s + w, 0);
  let x = rng.float() * total;
  for (const [v, w] of table) {
    x -= w;
    if (x < 0) return v;
  }
  const last = table[table.length - 1];
  if (last === undefined) throw new RangeError('empty table');
  return last[0];
}

export interface Hardware {
  gpuClass: DeviceClass;
  gpus: number;
  /** Real throughput of all the machine's GPUs together. */
  capacity: number;
}

export function hardwareOf(gpuClass: DeviceClass, gpus: number): Hardware {
  return { gpuClass, gpus, capacity: DEVICE_CLASSES[gpuClass] * gpus };
}

/** A machine as they come: mostly one consumer or data-centre GPU, some multi-GPU servers. */
export function drawHardware(rng: Prng, limits: { minGpus?: number; maxGpus?: number; classes?: readonly DeviceClass[] } = {}): Hardware {
  const classes = CLASS_WEIGHTS.filter(([c]) => limits.classes?.includes(c) ?? true);
  const counts = GPU_COUNTS.filter(([n]) => n >= (limits.minGpus ?? 1) && n <= (limits.maxGpus ?? 8));
  return hardwareOf(weighted(rng, classes), weighted(rng, counts));
}
