/**
 * `capanode-coordinator jobs submit|list|cancel`: the operator's view of
 * workloads. Each command works on the store directly, so it runs beside a
 * serving coordinator (which picks submitted jobs up at its next poll,
 * jobPollMs) and against a stopped one alike.
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { action, printJson } from '../../common/cli.js';
import { CapanodeError } from '../../common/errors.js';
import { buildJobs } from '../jobs/index.js';
import { defaultStoreUrl } from '../paths.js';
import { credits } from '../rewards/explain.js';
import { COORDINATOR_JOB_STATES, openStore, type CoordinatorJobState, type JobRow } from '../store/index.js';

const storeOption = ['--store <url>', `ledger store, sqlite:FILE or postgres://USER@HOST/DB (default ${defaultStoreUrl()})`] as const;

/** --param KEY=VALUE: an integer, true/false or null when it reads as one, else a string. */
function paramValue(text: string): string | number | boolean | null {
  if (/^-?\d{1,15}$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === 'null') return null;
  return text;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseParams(json: string | undefined, pairs: readonly string[], args: readonly string[]): Record<string, unknown> {
  let params: Record<string, unknown> = {};
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new CapanodeError('bad-input', '--params: not JSON', { hint: 'Example: --params \'{"seed":"ab...","n":256,"reps":4}\'' });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CapanodeError('bad-input', '--params: must be a JSON object');
    params = parsed as Record<string, unknown>;
  }
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw new CapanodeError('bad-input', `--param ${pair}: must be KEY=VALUE`, { hint: 'Example: --param n=256' });
    params[pair.slice(0, at)] = paramValue(pair.slice(at + 1));
  }
  if (args.length > 0) params.args = [...args];
  return params;
}

function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(text);
  if (m === null) throw new CapanodeError('bad-input', `--deadline ${text}: must be a duration such as 90s, 10m or 2h`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] ?? 'ms'] ?? 1;
  return Number(m[1]) * unit;
}

function jobLine(j: JobRow): string {
  const usage = j.usageAt === null ? '' : j.usageAccepted === true ? ` usage ok (${j.gpuMs ?? 0} ms, ${j.energyMj ?? 0} mJ)` : ` usage refused${j.usageCode === null ? '' : ` ${j.usageCode}`}: ${j.usageReason ?? ''}`;
  const audit = j.audit === 'none' ? '' : ` audit ${j.audit}`;
  const reason = j.reason === null ? '' : ` (${j.reason})`;
  return `${j.id}  ${j.workload}  ${j.state}${reason}  node ${j.node?.slice(0, 16) ?? '-'}  fee ${credits(j.fee)}${usage}${audit}${j.cancelRequested ? ' cancel requested' : ''}`;
}

export function registerJobsCommand(program: Command): void {
  const jobs = program.command('jobs').description('submit, list and cancel the jobs this coordinator assigns to nodes');

  jobs
    .command('submit')
    .description('queue a job; a serving coordinator assigns it to a connected node that allows its kind')
    .requiredOption('--workload <kind>', 'pot, bench, container or exec')
    .option('--id <id>', 'job id (default: a fresh one)')
    .option('--params <json>', 'the params as a JSON object (pot: {"seed","n","reps"}; exec: {"command","args"}; container: {"image","args"})')
    .option('--param <key=value>', 'one param (repeatable); integers, true/false and null are typed', collect, [])
    .option('--deadline <duration>', 'how long the job may run: 90s, 10m, 2h', '10m')
    .option('--fee <micro>', 'micro-credits the customer pays per replica', '0')
    .option('--redundancy <n>', 'run it on n different nodes and compare output digests (deterministic jobs only)', '1')
    .option('--node <id>', 'only this node may run it')
    .option(...storeOption)
    .option('--json', 'print JSON')
    .argument('[args...]', 'arguments for an exec command or a container (params.args)')
    .action(
      action(async (args: string[], opts: { workload: string; id?: string; params?: string; param: string[]; deadline: string; fee: string; redundancy: string; node?: string; store?: string; json?: boolean }) => {
        const now = Date.now();
        const id = opts.id ?? `job-${now.toString(36)}-${randomBytes(4).toString('hex')}`;
        if (!/^\d{1,16}$/.test(opts.fee)) throw new CapanodeError('bad-input', `--fee ${opts.fee}: must be a whole number of micro-credits`);
        if (!/^\d{1,2}$/.test(opts.redundancy)) throw new CapanodeError('bad-input', `--redundancy ${opts.redundancy}: must be a small whole number`);
        const rows = buildJobs(
          { id, workload: opts.workload as 'pot', params: parseParams(opts.params, opts.param, args) as Record<string, string>, deadlineMs: durationMs(opts.deadline), fee: Number(opts.fee), redundancy: Number(opts.redundancy), node: opts.node ?? null },
          now,
        );
        const store = openStore(opts.store ?? defaultStoreUrl());
        try {
          if (!(await store.insertJobs(rows))) throw new CapanodeError('bad-input', `a job with id ${id} already exists`, { hint: 'Choose another --id, or leave it out for a fresh one.' });
        } finally {
          await store.close();
        }
        if (opts.json === true) printJson({ id, replicas: rows.map((r) => r.id), state: 'queued' });
        else process.stdout.write(`queued ${rows.map((r) => r.id).join(', ')}\n`);
      }),
    );

  jobs
    .command('list')
    .description('jobs, newest first, with their state, node, usage judgement and audit')
    .option('--state <state>', `only jobs in this state (${COORDINATOR_JOB_STATES.join(', ')})`)
    .option('--node <id>', 'only jobs assigned to this node')
    .option('--refused', 'usage records refused (for jobs never assigned to the node, or implausible)')
    .option('--limit <n>', 'at most n jobs', '100')
    .option(...storeOption)
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { state?: string; node?: string; refused?: boolean; limit: string; store?: string; json?: boolean }) => {
        if (opts.state !== undefined && !(COORDINATOR_JOB_STATES as readonly string[]).includes(opts.state)) {
          throw new CapanodeError('bad-input', `--state ${opts.state}: unknown state`, { hint: `One of ${COORDINATOR_JOB_STATES.join(', ')}.` });
        }
        if (!/^\d{1,7}$/.test(opts.limit)) throw new CapanodeError('bad-input', `--limit ${opts.limit}: must be a whole number`);
        const store = openStore(opts.store ?? defaultStoreUrl(), { readonly: true });
        try {
          if (opts.refused === true) {
            const refusals = await store.usageRefusals(opts.node);
            if (opts.json === true) printJson(refusals);
            else for (const r of refusals) process.stdout.write(`${r.node.slice(0, 16)} seq ${r.seq} job ${r.job}: ${r.code}: ${r.reason}\n`);
            return;
          }
          const rows = await store.listJobs({ ...(opts.state === undefined ? {} : { state: opts.state as CoordinatorJobState }), ...(opts.node === undefined ? {} : { node: opts.node }), limit: Number(opts.limit) });
          if (opts.json === true) printJson(rows);
          else if (rows.length === 0) process.stdout.write('no jobs\n');
          else for (const j of rows) process.stdout.write(`${jobLine(j)}\n`);
        } finally {
          await store.close();
        }
      }),
    );

  jobs
    .command('cancel')
    .description('withdraw a job: a queued one at once; a running one is killed by its node, which reports it cancelled')
    .argument('<id>', 'the job (or the submitted id of a redundant job: every replica)')
    .option('--reason <text>', 'told to the node', 'cancelled by the operator')
    .option(...storeOption)
    .option('--json', 'print JSON')
    .action(
      action(async (id: string, opts: { reason: string; store?: string; json?: boolean }) => {
        const store = openStore(opts.store ?? defaultStoreUrl());
        try {
          const one = await store.getJob(id);
          const targets = one !== null ? [one] : await store.listJobs({ group: id });
          if (targets.length === 0) throw new CapanodeError('bad-input', `no job ${id}`, { hint: '`capanode-coordinator jobs list` shows the jobs.' });
          const out: { id: string; state: string }[] = [];
          for (const j of targets) {
            if (await store.transitionJob(j.id, ['queued'], { state: 'cancelled', reason: opts.reason.slice(0, 256) })) out.push({ id: j.id, state: 'cancelled' });
            else if (await store.transitionJob(j.id, ['assigned', 'running'], { cancelRequested: true, reason: opts.reason.slice(0, 256) })) out.push({ id: j.id, state: 'cancel requested' });
            else out.push({ id: j.id, state: `already ${j.state}` });
          }
          if (opts.json === true) printJson(out);
          else for (const o of out) process.stdout.write(`${o.id}: ${o.state}\n`);
        } finally {
          await store.close();
        }
      }),
    );
}
