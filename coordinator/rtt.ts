/** Round trips measured with WebSocket ping/pong: the median of the last few, in µs. */
export class RttTracker {
  private readonly samples: number[] = [];

  constructor(private readonly keep = 15) {}

  add(rttMs: number): void {
    if (!Number.isFinite(rttMs) || rttMs < 0) return;
    this.samples.push(rttMs);
    if (this.samples.length > this.keep) this.samples.shift();
  }

  get count(): number {
    return this.samples.length;
  }

  /** Median round trip in whole µs; 0 before any sample (so nothing is deducted). */
  medianUs(): number {
    if (this.samples.length === 0) return 0;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
    return Math.round(median * 1000);
  }
}
