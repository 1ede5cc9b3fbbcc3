/**
 * `npm run bench:load -- [options]`: the command line, parsed and checked
 * into LoadOptions. Numbers are checked as they are parsed (a usage error,
 * exit 2); combinations are checked after (bad-input, exit 1, with a hint).
 */
import { cpus } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { action } from '../../common/cli.js';
import { CapanodeError } from '../../common/errors.js';

export interface LoadOptions {
  /** hold: connect `agents` and hold them for `durationS`; max: add agents step by step until the latency limit breaks. */
  mode: 'hold' | 'max';
  /** hold: the agents; max: the most agents to try. */
  agents: number;
  coordinators: number;
  /** A store URL for serve --store; null: a new SQLite store in a temporary folder. */
  store: string | null;
  durationS: number;
  intervalMs: number;
  /** New connections per second, over all workers. */
  ramp: number;
  workers: number;
  /** max: agents added per step, and how long each step is measured. */
  step: number;
  stepSeconds: number;
  /** max: a step whose p99 ack latency exceeds this (ms) ends the search. */
  p99LimitMs: number;
  /** Seconds the coordinators idle before their idle memory is read. */
  settleS: number;
}

export const DEFAULTS = {
  agents: 10_000,
  maxAgents: 20_000,
  coordinators: 1,
  durationS: 300,
  intervalS: 10,
  maxIntervalS: 1,
  ramp: 250,
  step: 250,
  stepSeconds: 10,
  p99LimitMs: 250,
  settleS: 15,
} as const;

function integer(min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return n;
  };
}

function seconds(min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d+(\.\d+)?$/.test(text) || n < min || n > max) throw new InvalidArgumentError(`must be a number of seconds from ${min} to ${max}`);
    return n;
  };
}

/** Several workers per core buy nothing; one core is left to the coordinators. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(8, Math.floor(cpus().length / 2)));
}

interface Flags {
  agents?: number;
  coordinators: number;
  store?: string;
  duration: number;
  interval?: number;
  ramp: number;
  workers?: number;
  max?: boolean;
  step: number;
  stepSeconds: number;
  p99Limit: number;
  settle: number;
}

/** Checks what single flags cannot: the store for several coordinators. */
export function resolveOptions(flags: Flags): LoadOptions {
  const max = flags.max === true;
  if (flags.coordinators > 1 && flags.store === undefined) {
    throw new CapanodeError('bad-input', `--coordinators ${flags.coordinators} needs a store the coordinator processes share, and none was given`, {
      hint: 'Pass --store postgres://USER@HOST/DB (the default is a new SQLite store, which one process alone may serve), or run with --coordinators 1.',
    });
  }
  if (flags.coordinators > 1 && flags.store?.startsWith('sqlite:') === true) {
    throw new CapanodeError('bad-input', `--coordinators ${flags.coordinators} with an SQLite store: one SQLite file is served by one coordinator process`, {
      hint: 'Pass --store postgres://USER@HOST/DB, or run with --coordinators 1.',
    });
  }
  return {
    mode: max ? 'max' : 'hold',
    agents: flags.agents ?? (max ? DEFAULTS.maxAgents : DEFAULTS.agents),
    coordinators: flags.coordinators,
    store: flags.store ?? null,
    durationS: flags.duration,
    intervalMs: Math.round(1000 * (flags.interval ?? (max ? DEFAULTS.maxIntervalS : DEFAULTS.intervalS))),
    ramp: flags.ramp,
    workers: flags.workers ?? defaultWorkers(),
    step: flags.step,
    stepSeconds: flags.stepSeconds,
    p99LimitMs: flags.p99Limit,
    settleS: flags.settle,
  };
}

/** The bench:load program; `run` gets the checked options. */
export function loadProgram(run: (options: LoadOptions) => Promise<void>): Command {
  return new Command('bench:load')
    .description('load test: simulated agents (real keys, handshake and signed uptime records) against coordinator processes; prints one JSON report')
    .option('--agents <n>', `agents to connect (with --max: the most to try; default ${DEFAULTS.agents}, with --max ${DEFAULTS.maxAgents})`, integer(1, 1_000_000))
    .option('--coordinators <n>', 'coordinator processes to start; agents are spread over them round-robin; more than 1 needs --store', integer(1, 64), DEFAULTS.coordinators)
    .option('--store <url>', 'store for every coordinator (serve --store), e.g. postgres://USER@HOST/DB (default: a new SQLite store in a temporary folder)')
    .option('--duration <s>', 'seconds to hold every connection once all are up', seconds(1, 86_400), DEFAULTS.durationS)
    .option('--interval <s>', `seconds between two records of one agent (default ${DEFAULTS.intervalS}, with --max ${DEFAULTS.maxIntervalS})`, seconds(0.05, 3600))
    .option('--ramp <n>', 'new connections per second, at most', integer(1, 100_000), DEFAULTS.ramp)
    .option('--workers <n>', `generator processes the agents are spread over (default ${defaultWorkers()} here: half the cores, at most 8)`, integer(1, 64))
    .option('--max', "find the store's maximum instead: add agents step by step until p99 ack latency passes the limit or anything fails")
    .option('--step <n>', 'with --max: agents added per step', integer(1, 1_000_000), DEFAULTS.step)
    .option('--step-seconds <s>', 'with --max: seconds each step is measured', seconds(1, 3600), DEFAULTS.stepSeconds)
    .option('--p99-limit <ms>', 'with --max: the p99 ack latency (ms) that ends the search', integer(1, 600_000), DEFAULTS.p99LimitMs)
    .option('--settle <s>', "seconds the coordinators idle before their idle memory is read (V8 trims its start-up heap about 10 s in)", seconds(0, 600), DEFAULTS.settleS)
    .exitOverride()
    .action(action(async (flags: Flags) => run(resolveOptions(flags))));
}
