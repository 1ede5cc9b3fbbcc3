/**
 * The coordinator's composition root: store, beacons, verification, the
 * link server; and the order they stop in. Embeddable: the CLI's `serve`
 * wraps it, the agent's `start --devnet` runs it in-process, tests build one
 * with a fake clock and a fixed random stream.
 */
import { cpus, hostname } from 'node:os';
import { createLogger, type Logger } from '../common/log.js';
import { CapanodeError } from '../common/errors.js';
import type { KeyPair } from '../proofs/keys.js';
import { createInlineAnalyser, type Analyser } from './analyser.js';
import { Beacons } from './beacons.js';
import { randomHex, systemClock, systemRandom, type Clock, type RandomBytes, type TimerHandle } from './clock.js';
import { Committer } from './committer.js';
import { loadCoordinatorConfig, parseListen, rewardParamsOf, type CoordinatorConfig, type CoordinatorConfigInput } from './config.js';
import { EpochCloser, proposedSchedule } from './epochs/index.js';
import { JobDispatcher } from './jobs/index.js';
import { Ledger, VestingTermsBook } from './ledger/index.js';
import type { RewardParams } from './rewards/params.js';
import { NodeRateLimiter } from './rate-limit.js';
import { createLinkServer, type LinkServer } from './server.js';
import { openStore } from './store/index.js';
import type { Store } from './store/types.js';
import { createVerifyPool, workerAvailable } from './verify-pool.js';

export interface CoordinatorOptions {
  /** The coordinator's signing key (its public key is what agents pin). */
  key: KeyPair;
  /** A Store, or a store URL (`sqlite:FILE`) to open; a store passed in is closed with the coordinator. */
  store: Store | string;
  /** Any settings (config.ts); missing ones take their defaults. */
  config?: Partial<CoordinatorConfigInput>;
  logger?: Logger;
  clock?: Clock;
  /** CSPRNG byte source: nonces, beacon ids, challenge seeds and checks. */
  random?: RandomBytes;
  /** Overrides config sessionLeaseMs (tests). */
  sessionLeaseMs?: number;
}

export interface Coordinator {
  /** The coordinator's public key (HEX64). */
  readonly id: string;
  readonly config: CoordinatorConfig;
  readonly store: Store;
  /** Worker threads verifying frames (0: on the event loop). */
  readonly verifyWorkers: number;
  /** The reward parameters epochs are closed with. */
  readonly rewardParams: RewardParams;
  /** Closes epochs (by itself after each boundary; tests and operators may ask for one). */
  readonly epochs: EpochCloser;
  /** Accounts and claim decisions. */
  readonly ledger: Ledger;
  /** Job dispatch (it also polls by itself); tests call tick() to run a pass now. */
  readonly jobs: JobDispatcher;
  /** Starts accepting connections; defaults to config.listen. */
  listen(listen?: string): Promise<{ host: string; port: number; url: string }>;
  /** Node ids connected now. */
  connected(): string[];
  /** Sends a PoT challenge to a connected node at once; false when it is not connected or has one in progress. */
  challengeNow(node: string): Promise<boolean>;
  /** Closes every connection (1001), waits for in-flight commits, stops workers, closes the store. */
  close(): Promise<void>;
}

export interface RunningCoordinator extends Coordinator {
  readonly host: string;
  readonly port: number;
  /** ws://HOST:PORT for agents. */
  readonly url: string;
}

function workerCount(setting: CoordinatorConfig['verifyWorkers']): number {
  if (setting !== 'auto') return setting;
  // From the TypeScript sources (tests) there is no compiled worker script: verify inline.
  return workerAvailable() ? Math.max(1, Math.min(4, cpus().length)) : 0;
}

export async function createCoordinator(options: CoordinatorOptions): Promise<Coordinator> {
  const config = loadCoordinatorConfig({ overrides: options.config ?? {} });
  const log = (options.logger ?? createLogger({ level: config.logLevel, name: 'capanode-coordinator' })).child({ coordinator: options.key.id.slice(0, 16) });
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const store = typeof options.store === 'string' ? openStore(options.store) : options.store;
  let analyser: Analyser | null = null;
  let beacons: Beacons | null = null;
  let closer: EpochCloser | null = null;
  let dispatcher: JobDispatcher | null = null;
  let stopLeases: () => void = () => undefined;
  try {
    await store.resetConnected();
    const rewardParams = rewardParamsOf(config);
    const schedule = await store.epochSchedule(proposedSchedule(clock.now(), config.epochMs, config.epochAligned));
    if (schedule.epochMs !== config.epochMs) {
      throw new CapanodeError('config-invalid', `epochMs is ${config.epochMs}, but the epochs of ${store.description} are ${schedule.epochMs} ms long`, {
        hint: `Epochs already scheduled cannot change length: set epochMs to ${schedule.epochMs}, or serve a new store.`,
      });
    }
    const terms = new VestingTermsBook(rewardParams, await store.listEpochs());
    const ledger = new Ledger({ store, key: options.key, clock, terms, log: log.child({ component: 'ledger' }) });
    const undecided = await ledger.decideUndecided();
    if (undecided > 0) log.info({ claims: undecided }, 'decided claims stored before the last stop');
    const workers = workerCount(config.verifyWorkers);
    analyser = workers > 0 ? createVerifyPool(workers, log.child({ component: 'verify' })) : createInlineAnalyser(log.child({ component: 'verify' }));
    const committer = new Committer(store);
    let server: LinkServer | null = null;
    beacons = new Beacons({ key: options.key, store, clock, random, intervalMs: config.beaconIntervalMs, log: log.child({ component: 'beacons' }), publish: (b) => server?.broadcast(b) });
    await beacons.start();
    const limiter = new NodeRateLimiter({ messagesPerSec: config.rateMessagesPerSec, messageBurst: config.rateMessageBurst, bytesPerSec: config.rateBytesPerSec, byteBurst: config.rateByteBurst });
    const jobs = new JobDispatcher({
      store,
      key: options.key,
      clock,
      settings: { pollMs: config.jobPollMs, maxAttempts: config.jobMaxAttempts, limits: { maxGpuPowerW: config.maxGpuPowerW, maxCpuPowerW: config.maxCpuPowerW, slackMs: config.jobSlackMs } },
      link: () => (server === null ? null : { connected: () => server?.connected() ?? [], send: (node, m) => server?.session(node)?.sendJobMessage(m) ?? false }),
      log: log.child({ component: 'jobs' }),
    });
    dispatcher = jobs;
    // This process's name in session leases is its host and port (set by listen()): a coordinator restarted
    // in its place (kill -9, crash) takes its own leases straight back; another process waits for them to lapse.
    const lease = { owner: `${hostname()}:unbound:${randomHex(random, 8)}`, ms: options.sessionLeaseMs ?? config.sessionLeaseMs };
    server = createLinkServer({ key: options.key, store, committer, analyser, beacons, clock, random, config, limiter, ledger, jobs, lease, log });
    const link = server;
    let leaseTimer: TimerHandle | null = null;
    const renewLeases = (): void => {
      leaseTimer = clock.after(Math.floor(lease.ms / 3), () => {
        store
          .renewSessions(lease.owner, link.connected(), clock.now(), lease.ms)
          .catch((e: unknown) => log.error({ err: e }, 'could not renew session leases; nodes may be taken over by another coordinator process'))
          .finally(() => {
            if (leaseTimer !== null) renewLeases();
          });
      });
    };
    renewLeases();
    stopLeases = () => {
      leaseTimer?.cancel();
      leaseTimer = null;
    };
    jobs.start();
    closer = new EpochCloser({
      store,
      schedule,
      params: rewardParams,
      closeDelayMs: config.epochCloseDelayMs,
      clock,
      terms,
      log: log.child({ component: 'epochs' }),
      // Every connected node hears what the close did to its account.
      onClosed: () => {
        for (const node of link.connected()) link.session(node)?.sendAccount();
      },
    });
    const epochs = closer;
    await epochs.start();
    const stopBeacons = beacons;
    const stopAnalyser = analyser;
    let closed: Promise<void> | null = null;
    log.info({ store: store.description, verifyWorkers: analyser.workers, rows: analyser.rowBackend, epochs: schedule }, 'coordinator ready');
    return {
      id: options.key.id,
      config,
      store,
      verifyWorkers: analyser.workers,
      rewardParams,
      epochs,
      ledger,
      jobs,
      async listen(listen = config.listen) {
        const { host, port } = parseListen(listen);
        const bound = await link.listen(host, port);
        lease.owner = `${hostname()}:${bound.port}`;
        const shown = bound.host.includes(':') ? `[${bound.host}]` : bound.host;
        log.info({ host: bound.host, port: bound.port }, 'listening');
        return { ...bound, url: `ws://${shown}:${bound.port}` };
      },
      connected: () => link.connected(),
      challengeNow: (node) => link.session(node)?.challengeNow() ?? Promise.resolve(false),
      close() {
        closed ??= (async () => {
          stopBeacons.stop();
          stopLeases();
          await jobs.stop();
          await epochs.stop();
          await link.close();
          await committer.drain();
          await stopAnalyser.close();
          await store.close();
          log.info('coordinator stopped');
        })();
        return closed;
      },
    };
  } catch (e) {
    beacons?.stop();
    stopLeases();
    await dispatcher?.stop();
    await closer?.stop();
    await analyser?.close();
    await store.close();
    throw e;
  }
}

/** createCoordinator, then listen: what `serve` and `start --devnet` run. */
export async function startCoordinator(options: CoordinatorOptions & { listen?: string }): Promise<RunningCoordinator> {
  const coordinator = await createCoordinator(options);
  try {
    const bound = await coordinator.listen(options.listen);
    return Object.assign(coordinator, { host: bound.host, port: bound.port, url: bound.url });
  } catch (e) {
    await coordinator.close();
    throw e;
  }
}
