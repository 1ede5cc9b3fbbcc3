/**
 * Signed beacons: a fresh random id every beaconIntervalMs, stored, then sent
 * to every connected node. An uptime record that cites a beacon cannot have
 * been signed before the beacon existed; rewards count only fresh ones.
 */
import type { Logger } from '../common/log.js';
import { canonicalize } from '../proofs/canonical.js';
import type { KeyPair } from '../proofs/keys.js';
import { signCoordinatorMessage, type Beacon } from '../proofs/messages.js';
import { randomHex, type Clock, type RandomBytes, type TimerHandle } from './clock.js';
import type { Store } from './store/types.js';

export interface BeaconDeps {
  key: KeyPair;
  store: Store;
  clock: Clock;
  random: RandomBytes;
  intervalMs: number;
  log: Logger;
  /** Called with each new beacon after it is stored. */
  publish(beacon: Beacon): void;
}

export class Beacons {
  private latest: Beacon | null = null;
  private timer: TimerHandle | null = null;
  private stopped = false;

  constructor(private readonly deps: BeaconDeps) {}

  /** Makes the first beacon (stored before anyone can see it) and starts the schedule. */
  async start(): Promise<void> {
    await this.next();
    this.schedule();
  }

  current(): Beacon {
    if (this.latest === null) throw new Error('Beacons.current() before start()');
    return this.latest;
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.deps.clock.after(this.deps.intervalMs, () => {
      this.next()
        .then(() => {
          if (this.latest !== null) this.deps.publish(this.latest);
        })
        .catch((e: unknown) => this.deps.log.error({ err: e }, 'could not store a new beacon; keeping the previous one'))
        .finally(() => this.schedule());
    });
  }

  private async next(): Promise<void> {
    const beacon: Beacon = signCoordinatorMessage({ t: 'beacon' as const, id: randomHex(this.deps.random, 16), time: this.deps.clock.now() }, this.deps.key);
    await this.deps.store.insertBeacon({ id: beacon.id, time: beacon.time, message: canonicalize(beacon) });
    this.latest = beacon;
  }
}
