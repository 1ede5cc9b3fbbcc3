/** The load generator's latency histogram: quantiles within 1% of the exact ones, merging what workers send. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Histogram } from '../../bench/load/histogram.js';

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] ?? NaN;
}

describe('Histogram', () => {
  it('reads p50 and p99 within 1% above the exact value (never below, but for float rounding), and the exact max', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.02, max: 500_000, noNaN: true }), { minLength: 1, maxLength: 500 }), (values) => {
        const h = new Histogram();
        for (const v of values) h.add(v);
        const sorted = [...values].sort((a, b) => a - b);
        for (const q of [0.5, 0.99]) {
          const exact = exactQuantile(sorted, q);
          const read = h.quantile(q) ?? NaN;
          expect(read).toBeGreaterThanOrEqual(exact * (1 - 1e-9));
          expect(read).toBeLessThanOrEqual(exact * 1.01 + 1e-9);
        }
        expect(h.max()).toBe(sorted.at(-1));
        expect(h.count).toBe(values.length);
      }),
    );
  });

  it('merges sparse counts from several histograms into the same quantiles as one', () => {
    const whole = new Histogram();
    const parts = [new Histogram(), new Histogram(), new Histogram()];
    for (let i = 1; i <= 3000; i++) {
      const v = (i * 7919) % 1000 / 3 + 0.5;
      whole.add(v);
      parts[i % 3]!.add(v);
    }
    const merged = new Histogram();
    for (const p of parts) merged.merge(p.sparse(), p.max() ?? 0);
    expect(merged.count).toBe(whole.count);
    for (const q of [0.5, 0.9, 0.99]) expect(merged.quantile(q)).toBe(whole.quantile(q));
    expect(merged.max()).toBe(whole.max());
  });

  it('is empty after clear, and says so with null', () => {
    const h = new Histogram();
    h.add(3);
    h.clear();
    expect([h.count, h.quantile(0.5), h.max(), h.sparse()]).toEqual([0, null, null, []]);
  });
});
