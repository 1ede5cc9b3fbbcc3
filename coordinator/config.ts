/**
 * The coordinator's settings: one flat, strict schema with a default for
 * every key, so `serve` runs with no config at all and tests shorten any
 * interval. A JSON config file (--config) and command-line flags (one per
 * key, kebab-case: potDeadlineMs -> --pot-deadline-ms) override the defaults,
 * flags last; every problem names the key and where it came from.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CapanodeError } from '../common/errors.js';
import { MAX_FRAME_BYTES } from '../proofs/messages.js';
import { POT_DEFAULT_CHECKS, POT_DIGEST_BYTES, POT_MAX_CHECKS, POT_MAX_N, POT_MAX_REPS, POT_MIN_N, POT_N_MULTIPLE, POT_SEED_BYTES } from '../proofs/pot.js';
import { maxAuditPathLength } from '../proofs/merkle.js';
import { resolveRewardParams, type RewardParams } from './rewards/params.js';

const ms = (min: number, max: number) => z.number().int('must be an integer number of milliseconds').min(min).max(max);
const count = (min: number, max: number) => z.number().int('must be an integer').min(min).max(max);
const potN = count(POT_MIN_N, POT_MAX_N).refine((n) => n % POT_N_MULTIPLE === 0, `must be a multiple of ${POT_N_MULTIPLE}`);
const DAY = 86_400_000;

/** Reward parameters set with their own keys, not inside rewardParams. */
const OWN_KEYS = ['epochMs', 'emissionPerEpoch'] as const;

/** rewardParams: a JSON object, or its text (from a flag). */
const rewardOverrides = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}, z.record(z.string(), z.unknown(), 'must be a JSON object of reward parameter overrides, e.g. {"stakePerGflops":100}'));

export const DEFAULT_PORT = 7400;

export const CoordinatorConfigSchema = z
  .strictObject({
    listen: z.string().regex(/^[^\s]+:\d{1,5}$/, 'must be HOST:PORT').default(`127.0.0.1:${DEFAULT_PORT}`).describe('HOST:PORT to listen on; port 0 picks a free one (tests).'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level (pino JSON lines on stdout).'),
    beaconIntervalMs: ms(100, DAY).default(60_000).describe('How often a new signed beacon is made and sent to every node.'),
    pingIntervalMs: ms(20, 600_000).default(30_000).describe('WebSocket ping interval; a connection that has not answered the previous ping is terminated.'),
    authTimeoutMs: ms(20, 300_000).default(10_000).describe('How long a connection may take to answer hello with auth.'),
    challengeMinIntervalMs: ms(10, 30 * DAY).default(10 * 60_000).describe('Shortest time between two PoT challenge rounds: each round challenges every connected node at once, a uniformly random time in [min, max] after the previous one, drawn with the coordinator key (docs/INCENTIVES.md §10). A node never verified is first challenged at least this long after it connects.'),
    challengeMaxIntervalMs: ms(10, 30 * DAY).default(50 * 60_000).describe('Longest time between two PoT challenge rounds (the mean is (min + max) / 2).'),
    potEnabled: z.boolean().default(true).describe('Send PoT challenges; false: a coordinator that only collects records.'),
    potN: potN.default(POT_MAX_N).describe('PoT matrix size n for nodes with a GPU.'),
    potCpuN: potN.default(512).describe('PoT matrix size n for nodes that reported no GPU.'),
    potReps: count(1, POT_MAX_REPS).nullable().default(null).describe('Fixed reps for every challenge; null: chosen so the expected device needs about potTargetSeconds.'),
    potTargetSeconds: count(1, 3600).default(5).describe("A challenge round's window (or potDeadlineMs, if shorter): a commit that reaches the coordinator this long after the challenge left is credited its work over the window, a later one 0; an operator's challenge aims at this much work."),
    potMarginPercent: count(1, 50).default(10).describe("Part of a round's window its challenge leaves free for jitter: reps are sized so the node's measured speed needs the rest, less its round trip."),
    potGpuGflops: count(1, 100_000_000).default(100_000).describe("Expected GFLOP/s of a GPU node never verified: its first round asks a sixteenth of it, later ones what it showed."),
    potCpuGflops: count(1, 100_000_000).default(20).describe('Expected GFLOP/s of a CPU-only node never verified.'),
    potK: count(1, POT_MAX_CHECKS).default(POT_DEFAULT_CHECKS).describe('Rows checked per challenge (k).'),
    potDeadlineMs: ms(10, DAY).default(120_000).describe('Time allowed for the commit after the challenge (a round credits only the commits inside its window), and again for the reveal after open.'),
    rateMessagesPerSec: count(1, 1_000_000).default(200).describe('Messages a node may send per second, sustained; over any rate limit it is disconnected with 4008.'),
    rateMessageBurst: count(1, 10_000_000).default(1_000).describe('Messages a node may send in a burst.'),
    rateBytesPerSec: count(1024, 1 << 30).default(16 * 1024 * 1024).describe('Bytes a node may send per second, sustained.'),
    rateByteBurst: count(MAX_FRAME_BYTES, 1 << 30).default(64 * 1024 * 1024).describe('Bytes a node may send in a burst.'),
    maxQueuedFrames: count(1, 10_000).default(64).describe('Frames received from one node and not yet answered; more is a flood (4008).'),
    sessionLeaseMs: ms(1_000, 3_600_000).default(30_000).describe("How long a node's session lease lasts unless renewed (every third of it): with several coordinator processes on one store, how long a process killed with -9 keeps its nodes from reconnecting elsewhere."),
    jobPollMs: ms(10, 600_000).default(1_000).describe('How often the job dispatcher looks at the queue, deadlines and cancels (jobs submitted by another process wait at most this long).'),
    jobMaxAttempts: count(1, 100).default(3).describe('Nodes that may reject a job before it fails.'),
    jobSlackMs: ms(0, DAY).default(60_000).describe("Tolerance on a job's window for clocks and transit: a usage record may start this much before the assignment and end this much after the deadline."),
    maxGpuPowerW: count(1, 100_000).default(1_000).describe('Most one GPU can draw (W): a usage record claiming more energy than this for its duration is refused.'),
    maxCpuPowerW: count(1, 100_000).default(500).describe('Most the host of a CPU-only job can draw (W).'),
    maxConnections: count(1, 1_000_000).default(10_000).describe('Open connections, authenticated or not; more are closed with 1013.'),
    verifyWorkers: z.union([z.literal('auto'), count(0, 64)]).default('auto').describe('Worker threads verifying att frames; 0 verifies on the event loop; auto: one per CPU, at most 4.'),
    epochMs: ms(60_000, 30 * DAY).default(3_600_000).describe('Epoch length: rewards are computed and recorded once per epoch; fixed for a store once its first epoch is scheduled.'),
    epochAligned: z.boolean().default(true).describe("Epochs start at multiples of epochMs since the Unix epoch (on the hour with the default); false: a new store's first epoch starts when it is first served."),
    epochCloseDelayMs: ms(0, DAY).default(60_000).describe('An epoch is closed this long after it ends; uptime records that arrive by then still count for the part of the epoch they cover.'),
    emissionPerEpoch: count(0, 1e15).default(1_000_000_000).describe('New micro-credits in each epoch\'s budget (1 credit = 1,000,000 micro-credits).'),
    rewardParams: rewardOverrides
      .default({})
      .describe('Other reward parameters (docs/INCENTIVES.md §3) as a JSON object, e.g. {"stakePerGflops":100}; beaconFreshMs defaults to two beacon intervals.'),
  })
  .superRefine((c, ctx) => {
    if (c.challengeMinIntervalMs > c.challengeMaxIntervalMs) {
      ctx.addIssue({ code: 'custom', path: ['challengeMinIntervalMs'], message: `must not exceed challengeMaxIntervalMs (${c.challengeMaxIntervalMs})` });
    }
    for (const key of OWN_KEYS) {
      if (Object.hasOwn(c.rewardParams, key)) ctx.addIssue({ code: 'custom', path: ['rewardParams'], message: `set ${key} as its own setting, not inside rewardParams` });
    }
    try {
      rewardParamsOf(c);
    } catch (e) {
      const problems = (e as { details?: { problems?: string[] } }).details?.problems ?? [(e as Error).message];
      for (const p of problems) ctx.addIssue({ code: 'custom', path: ['rewardParams'], message: p });
    }
    for (const key of ['potN', 'potCpuN'] as const) {
      if (revealBytes(c[key], c.potK) > MAX_FRAME_BYTES) {
        ctx.addIssue({ code: 'custom', path: ['potK'], message: `${c.potK} checks at ${key} = ${c[key]} need a reveal larger than one ${MAX_FRAME_BYTES}-byte frame; lower potK or ${key}` });
      }
    }
  });

export type CoordinatorConfig = z.infer<typeof CoordinatorConfigSchema>;
export type CoordinatorConfigInput = z.input<typeof CoordinatorConfigSchema>;
export type ConfigKey = keyof CoordinatorConfig;
export const CONFIG_KEYS = Object.keys(CoordinatorConfigSchema.shape) as ConfigKey[];

/** The largest reveal a challenge of size n with k checks can need: k distinct reps, each with 8n digest bytes in base64 and a full audit path. */
export function revealBytes(n: number, k: number): number {
  const item = 4 * Math.ceil((n * POT_DIGEST_BYTES) / 3) + maxAuditPathLength(POT_MAX_REPS) * 67 + 64;
  return 128 + k * item + POT_SEED_BYTES;
}

/**
 * The reward parameters the coordinator pays with: the defaults, the
 * operator's rewardParams, and its own epochMs and emissionPerEpoch. An
 * uptime record's beacon counts as fresh for two beacon intervals unless
 * rewardParams says otherwise.
 */
export function rewardParamsOf(c: Pick<CoordinatorConfig, 'epochMs' | 'emissionPerEpoch' | 'beaconIntervalMs' | 'rewardParams'>): RewardParams {
  const beaconFreshMs = Math.min(DAY, Math.max(1_000, 2 * c.beaconIntervalMs));
  return resolveRewardParams({ beaconFreshMs, ...c.rewardParams, epochMs: c.epochMs, emissionPerEpoch: c.emissionPerEpoch }, 'rewardParams');
}

export function flagName(key: string): string {
  return `--${key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}`;
}

/** A flag's text as the value its key expects (numbers, booleans, null); zod then checks it. */
export function parseFlagValue(text: string): unknown {
  if (/^-?\d+$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === 'null') return null;
  return text;
}

export interface LoadCoordinatorConfigOptions {
  /** A JSON file of settings (--config). */
  file?: string | undefined;
  /** Values from flags or from an embedding program: highest precedence. */
  overrides?: Record<string, unknown>;
}

export function loadCoordinatorConfig(options: LoadCoordinatorConfigOptions = {}): CoordinatorConfig {
  const problems: string[] = [];
  const merged: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  if (options.file !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(options.file, 'utf8'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CapanodeError('config-invalid', `cannot read config ${options.file}: ${code ?? (e as Error).message}`, { hint: 'Pass a JSON file holding one object of settings, or leave --config out.' });
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new CapanodeError('config-invalid', `config ${options.file} must hold one JSON object`, { hint: 'Example: {"listen":"0.0.0.0:7400","beaconIntervalMs":60000}' });
    }
    for (const [key, value] of Object.entries(raw)) {
      if (!(CONFIG_KEYS as string[]).includes(key)) problems.push(`${options.file}: unknown key "${key}"`);
      merged[key] = value;
      origin[key] = `${options.file}: key "${key}"`;
    }
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value === undefined) continue;
    if (!(CONFIG_KEYS as string[]).includes(key)) problems.push(`unknown setting "${key}"`);
    merged[key] = value;
    origin[key] = flagName(key);
  }
  const parsed = CoordinatorConfigSchema.safeParse(merged);
  if (!parsed.success || problems.length > 0) {
    for (const issue of parsed.error?.issues ?? []) {
      if (issue.code === 'unrecognized_keys') continue;
      const key = String(issue.path[0] ?? '');
      problems.push(`${origin[key] ?? `setting "${key}"`}: ${issue.message}`);
    }
    throw new CapanodeError('config-invalid', `invalid coordinator configuration:\n  ${problems.join('\n  ')}`, {
      hint: 'Fix the settings named above; `capanode-coordinator serve --help` lists each with its flag.',
      details: { problems },
    });
  }
  return parsed.data;
}

/** HOST:PORT -> parts; IPv6 hosts may be bracketed ([::1]:7400). */
export function parseListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(listen.slice(at + 1));
  if (at <= 0 || host === '' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CapanodeError('config-invalid', `--listen ${listen}: must be HOST:PORT with a port in 0..65535`, { hint: 'e.g. --listen 0.0.0.0:7400' });
  }
  return { host, port };
}
