/**
 * Reconnect delays: exponential from `minMs` to `maxMs` with full jitter
 * (a uniformly random delay up to the current ceiling), so a fleet that lost
 * its coordinator at once does not come back at once. Reset after a session
 * that stayed up (the caller decides what "stable" means).
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs = 1_000,
    private readonly maxMs = 60_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.max(this.minMs, Math.floor(this.random() * ceiling));
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
