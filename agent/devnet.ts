/**
 * `capanode start --devnet`: a whole network on one machine, for a newcomer's
 * first run and for end-to-end tests. An embedded coordinator listens on
 * 127.0.0.1 (a free port), with its own key and store under the devnet
 * directory, short intervals (beacons every 5 s, a PoT challenge within about
 * 20 s, sized for a CPU) and a one-minute epoch; the agent gets a key there too.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '../common/log.js';
import { readKeyFile, writeKeyFile } from '../common/keyfile.js';
import { generateKeyPair, type KeyPair } from '../proofs/keys.js';
import { startCoordinator, type RunningCoordinator } from '../coordinator/index.js';

export const DEVNET_DIR = '.devnet';

export interface Devnet {
  coordinator: RunningCoordinator;
  /** The agent's data directory. */
  agentDir: string;
}

function keyAt(path: string): KeyPair {
  if (!existsSync(path)) writeKeyFile(path, generateKeyPair(), { overwrite: false });
  return readKeyFile(path);
}

/**
 * Devnet intervals: everything a newcomer should see happens within about two
 * minutes. The first one-minute epoch starts when the devnet is first run
 * (not on the minute), so the agent is there for nearly all of it; it closes
 * 10 s (one devnet heartbeat) after its end with 10 credits to share, and
 * earnings vest over an hour instead of 30 days so claims visibly grow.
 */
export const DEVNET_COORDINATOR_CONFIG = {
  beaconIntervalMs: 5_000,
  challengeMinIntervalMs: 10_000,
  challengeMaxIntervalMs: 30_000,
  potCpuN: 256,
  potTargetSeconds: 2,
  potDeadlineMs: 60_000,
  verifyWorkers: 0,
  epochMs: 60_000,
  epochAligned: false,
  epochCloseDelayMs: 10_000,
  emissionPerEpoch: 10_000_000,
  rewardParams: { vestingMs: 3_600_000 },
} as const;

export async function startDevnet(options: { root?: string; logger: Logger }): Promise<Devnet> {
  const root = resolve(options.root ?? DEVNET_DIR);
  const coordinatorDir = join(root, 'coordinator');
  const agentDir = join(root, 'agent');
  mkdirSync(coordinatorDir, { recursive: true, mode: 0o700 });
  mkdirSync(agentDir, { recursive: true, mode: 0o700 });
  const coordinatorKey = keyAt(join(coordinatorDir, 'coordinator.key'));
  keyAt(join(agentDir, 'node.key'));
  const coordinator = await startCoordinator({
    key: coordinatorKey,
    store: `sqlite:${join(coordinatorDir, 'ledger.db')}`,
    listen: '127.0.0.1:0',
    config: { ...DEVNET_COORDINATOR_CONFIG, logLevel: options.logger.level as 'info' },
    logger: options.logger.child({ component: 'devnet-coordinator' }),
  });
  options.logger.info({ url: coordinator.url, coordinator: coordinator.id, dir: root }, 'devnet coordinator running');
  return { coordinator, agentDir };
}
