import { randomBytes } from 'node:crypto';
import type { BodyOf } from '../proofs/envelope.js';

/** A benchmark suite: returns its figures (numbers, goals and whether they were met). */
export interface BenchSuite {
  name: string;
  run(): Promise<Record<string, unknown>>;
}

/** Runs fn repeatedly for at least minMs and returns operations per second. */
export function opsPerSec(fn: () => void, minMs = 1000, batch = 100): number {
  let ops = 0;
  const start = process.hrtime.bigint();
  let elapsedNs = 0n;
  const minNs = BigInt(minMs) * 1_000_000n;
  while (elapsedNs < minNs) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
    elapsedNs = process.hrtime.bigint() - start;
  }
  return Math.round((ops * 1e9) / Number(elapsedNs));
}

/** Milliseconds taken by the median of `runs` calls of fn. */
export async function medianMs(fn: () => unknown, runs = 5): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return Math.round((times[Math.floor(times.length / 2)] ?? 0) * 100) / 100;
}

export function goal(value: number, op: '>=' | '<=', target: number): { value: number; goal: string; met: boolean } {
  return { value, goal: `${op} ${target}`, met: op === '>=' ? value >= target : value <= target };
}

/** A realistic uptime body (one H100-like GPU) for record-throughput benchmarks. */
export function benchUptimeBody(i: number): BodyOf['uptime'] {
  return {
    from: 1_700_000_000_000 + i * 30_000,
    to: 1_700_000_000_000 + (i + 1) * 30_000,
    beacon: randomBytes(16).toString('hex'),
    gpus: [{ uuid: 'GPU-5f5fa2a3-6d4b-2b1c-9a4c-2a3bb5a0e8e1', util: i % 101, memUsedMiB: 10_240, tempC: 55, powerMw: 301_000, smClockMhz: 1980 }],
    host: { uptimeS: 86_400 + i * 30, load1Milli: 1250 },
  };
}
