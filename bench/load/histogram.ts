/**
 * A latency histogram small enough to ship between processes every second:
 * logarithmic buckets 1% wide from 10 µs to about 10 minutes, so a quantile
 * read from it is within 1% of the true value whatever the spread, and
 * workers send only the buckets that changed.
 */

const FLOOR_MS = 0.01;
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
export const HISTOGRAM_BUCKETS = 2048;

/** Non-empty buckets as [index, count] pairs: what a worker sends. */
export type SparseCounts = [number, number][];

export class Histogram {
  private readonly counts = new Float64Array(HISTOGRAM_BUCKETS);
  private total = 0;
  private largest = 0;

  get count(): number {
    return this.total;
  }

  add(ms: number): void {
    const i = ms <= FLOOR_MS ? 0 : Math.min(HISTOGRAM_BUCKETS - 1, Math.ceil(Math.log(ms / FLOOR_MS) / LOG_GROWTH));
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.total += 1;
    if (ms > this.largest) this.largest = ms;
  }

  /** Adds another histogram's counts and the largest value it saw. */
  merge(sparse: SparseCounts, largest: number): void {
    for (const [i, c] of sparse) {
      if (!Number.isInteger(i) || i < 0 || i >= HISTOGRAM_BUCKETS || !(c > 0)) continue;
      this.counts[i] = (this.counts[i] ?? 0) + c;
      this.total += c;
    }
    this.largest = Math.max(this.largest, largest);
  }

  sparse(): SparseCounts {
    const out: SparseCounts = [];
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      const c = this.counts[i] ?? 0;
      if (c > 0) out.push([i, c]);
    }
    return out;
  }

  /** The q-quantile (0..1) in ms, as its bucket's upper bound (at most 1% high); null when empty. */
  quantile(q: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(bucketUpperMs(i), this.largest);
    }
    return this.largest;
  }

  /** The largest value added or merged. */
  max(): number | null {
    return this.total === 0 ? null : this.largest;
  }

  clear(): void {
    this.counts.fill(0);
    this.total = 0;
    this.largest = 0;
  }
}

function bucketUpperMs(i: number): number {
  return FLOOR_MS * GROWTH ** i;
}
