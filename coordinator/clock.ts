/**
 * Time and randomness as injectable dependencies: tests drive challenge
 * schedules and deadlines with a fake clock and a fixed byte stream; the
 * product uses the system's. Durations are measured on the monotonic clock,
 * timestamps that are stored or signed on the wall clock.
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Wall clock, integer ms since the Unix epoch (what is stored and signed). */
  now(): number;
  /** Monotonic ms (fractional): what durations are measured with. */
  monotonic(): number;
  /** Runs fn once after ms; an exception in fn is the caller's to catch. */
  after(ms: number, fn: () => void): TimerHandle;
}

export type RandomBytes = (size: number) => Uint8Array;

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    // A scheduled challenge or beacon never keeps a process alive on its own.
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

export const systemRandom: RandomBytes = (size) => new Uint8Array(cryptoRandomBytes(size));

/** Uniform integer in [min, max] from a CSPRNG byte source (rejection sampling, no modulo bias). */
export function randomIntBetween(random: RandomBytes, min: number, max: number): number {
  if (max <= min) return min;
  const span = max - min + 1;
  const limit = 2 ** 48 - (2 ** 48 % span);
  for (;;) {
    const b = random(6);
    const x = Buffer.from(b.buffer, b.byteOffset, 6).readUIntLE(0, 6);
    if (x < limit) return min + (x % span);
  }
}

export function randomHex(random: RandomBytes, bytes: number): string {
  const b = random(bytes);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
