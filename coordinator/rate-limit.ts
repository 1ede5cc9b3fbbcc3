/**
 * Token buckets for per-node limits: a node may burst, then is held to a
 * steady rate. Buckets are kept per node id, not per connection, so
 * reconnecting does not refill them.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes `amount` tokens at monotonic time `now` (ms); false when there are not enough. */
  take(amount: number, now: number): boolean {
    this.refill(now);
    if (this.tokens < amount) return false;
    this.tokens -= amount;
    return true;
  }

  /** True when the bucket has refilled completely (it can be forgotten). */
  full(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSec) / 1000);
  }
}

export interface NodeLimits {
  messagesPerSec: number;
  messageBurst: number;
  bytesPerSec: number;
  byteBurst: number;
}

/** The message and byte buckets of every node seen recently. */
export class NodeRateLimiter {
  private readonly buckets = new Map<string, { messages: TokenBucket; bytes: TokenBucket }>();

  constructor(private readonly limits: NodeLimits) {}

  /** Charges one message of `bytes`; false when the node is over either limit. */
  allow(node: string, bytes: number, now: number): boolean {
    let b = this.buckets.get(node);
    if (b === undefined) {
      b = { messages: new TokenBucket(this.limits.messagesPerSec, this.limits.messageBurst, now), bytes: new TokenBucket(this.limits.bytesPerSec, this.limits.byteBurst, now) };
      this.buckets.set(node, b);
    }
    const messagesOk = b.messages.take(1, now);
    const bytesOk = b.bytes.take(bytes, now);
    return messagesOk && bytesOk;
  }

  /** Forgets nodes whose buckets are full again (they would start full anyway). */
  sweep(now: number, keep: (node: string) => boolean): void {
    for (const [node, b] of this.buckets) {
      if (!keep(node) && b.messages.full(now) && b.bytes.full(now)) this.buckets.delete(node);
    }
  }
}
