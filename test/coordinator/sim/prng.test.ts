import { describe, expect, it } from 'vitest';
import { Prng } from '../../../coordinator/sim/index.js';

describe('Prng (xoshiro128** seeded by splitmix32)', () => {
  it('is deterministic for a seed and label, and different for others', () => {
    const a = new Prng(42, 'x');
    const b = new Prng(42, 'x');
    const seq = Array.from({ length: 8 }, () => a.u32());
    expect(Array.from({ length: 8 }, () => b.u32())).toEqual(seq);
    expect(Array.from({ length: 8 }, () => new Prng(43, 'x').u32())).not.toEqual(seq);
    expect(new Prng(42, 'y').u32()).not.toBe(seq[0]);
    // Pinned: a change to the seeding changes every report, so it must be deliberate.
    expect(seq.slice(0, 3)).toEqual([1993691856, 2708275663, 4033137467]);
    expect(new Prng(1).hex(8)).toBe('9190299ec1017b27');
  });

  it('matches the reference xoshiro128** from state (1, 2, 3, 4)', () => {
    const p = Prng.fromState(1, 2, 3, 4);
    expect(Array.from({ length: 6 }, () => p.u32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('draws in range and roughly uniformly', () => {
    const r = new Prng(7);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = r.float();
      expect(x >= 0 && x < 1).toBe(true);
      buckets[Math.floor(x * 10)]! += 1;
    }
    for (const b of buckets) expect(Math.abs(b - 10_000)).toBeLessThan(500);
    for (let i = 0; i < 1000; i++) {
      const n = r.int(3, 5);
      expect(n >= 3 && n <= 5 && Number.isInteger(n)).toBe(true);
    }
    expect(r.hex(32)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('forks independent named streams', () => {
    const root = new Prng(9);
    const a = root.fork('a');
    const b = root.fork('a');
    expect(a.u32()).not.toBe(b.u32());
  });
});
