/**
 * Group commit: frames that are ready in the same turn of the event loop,
 * from any number of sessions, are written with one store commit (one fsync)
 * instead of one each. Each frame still succeeds or fails on its own.
 */
import type { FrameCommit, Store } from './store/types.js';

interface Waiting {
  frame: FrameCommit;
  resolve(): void;
  reject(error: Error): void;
}

export class Committer {
  private queue: Waiting[] = [];
  private scheduled = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly store: Store) {}

  /** Resolves once the frame is durable; rejects with why it was not written. */
  commit(frame: FrameCommit): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ frame, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.inFlight = this.flush();
        });
      }
    });
  }

  /** Waits for everything submitted so far to be written (or refused). */
  async drain(): Promise<void> {
    while (this.scheduled || this.queue.length > 0) await new Promise((r) => setImmediate(r));
    await this.inFlight;
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    try {
      const results = await this.store.commitFrames(batch.map((w) => w.frame));
      batch.forEach((w, i) => {
        const error = results[i] ?? null;
        if (error === null) w.resolve();
        else w.reject(error);
      });
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      for (const w of batch) w.reject(error);
    }
  }
}
