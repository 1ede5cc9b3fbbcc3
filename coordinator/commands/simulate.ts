/**
 * `capanode-coordinator simulate`: the adversarial economic simulator. Runs
 * strategies against the real reward engine and reports, per strategy, the
 * gain over honest nodes, how often it was caught and what it lost.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { action, printJson } from '../../common/cli.js';
import { CapanodeError } from '../../common/errors.js';
import { writeFileAtomic } from '../../common/keyfile.js';
import { resolveRewardParams } from '../rewards/params.js';
import { buildReport, DEFAULT_MIX, parseMix, renderHtml, SIM_REWARD_PARAMS, simulate, type ChallengeSchedule, type SimReport } from '../sim/index.js';

interface SimulateOptions {
  nodes: string;
  epochs: string;
  seed: string;
  mix?: string;
  challenges: string;
  params?: string;
  json?: boolean;
  out?: string;
}

const SCHEDULES: readonly ChallengeSchedule[] = ['windowed', 'rounds', 'independent'];

const DEFAULT_MIX_TEXT = Object.entries(DEFAULT_MIX)
  .map(([k, v]) => `${k}=${v}`)
  .join(',');

function integer(flag: string, text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new CapanodeError('sim-options-invalid', `${flag} "${text}" is not a whole number`, { hint: `Example: ${flag} 100` });
  return Number(text);
}

function readParams(file: string | undefined): ReturnType<typeof resolveRewardParams> {
  if (file === undefined) return SIM_REWARD_PARAMS;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CapanodeError('reward-params-invalid', `cannot read reward parameters from ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: 'Pass a JSON file holding one object of parameter overrides, e.g. {"stakePerGflops":100}.',
    });
  }
  const overrides = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? { stakePerGflops: SIM_REWARD_PARAMS.stakePerGflops, ...raw } : raw;
  return resolveRewardParams(overrides, `reward parameters in ${file}`);
}

function summary(r: SimReport): string {
  const head = ['STRATEGY', 'OPERATORS', 'IDENTITIES', 'GAIN', 'DETECTED', 'SLASHED', 'FORFEITED', 'NET CREDITS'];
  const body = r.strategies.map((s) => [s.strategy, String(s.operators), String(s.identities), s.gain === null ? '-' : s.gain.toFixed(3), `${(s.detectionRate * 100).toFixed(0)}%`, s.slashed.toFixed(2), s.forfeited.toFixed(2), s.net.toFixed(2)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [
    `${r.options.nodes} operators (${r.identities} identities), ${r.options.epochs} epochs, seed ${r.options.seed}, challenges in ${r.options.schedule}`,
    line(head),
    ...body.map(line),
    `largest adversarial gain ${r.maxAdversarialGain === null ? '-' : r.maxAdversarialGain.toFixed(3)} (goal <= 1: no strategy out-earns honest nodes per unit of real contribution)`,
    `conservation error ${r.conservationError} micro-credits (goal 0)`,
  ].join('\n');
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('run simulated honest and adversarial nodes against the real reward engine; report each strategy\'s gain, detection rate and losses')
    .option('--nodes <n>', 'simulated operators (machines); sybil and multiplex ones run several identities', '1000')
    .option('--epochs <n>', 'epochs to run (1 hour each)', '168')
    .option('--seed <n>', 'seed: the same seed gives the same report', '1')
    .option('--mix <list>', `strategy weights, NAME=WEIGHT,... (default ${DEFAULT_MIX_TEXT})`)
    .option(
      '--challenges <schedule>',
      'windowed: all nodes challenged at the same random instants, credited over a fixed window; rounds: same instants, throughput = work / elapsed; independent: each node at its own instants',
      'windowed',
    )
    .option('--params <file>', 'JSON file of reward parameter overrides (docs/INCENTIVES.md)')
    .option('--json', 'print the report as JSON')
    .option('--out <file>', 'also write the report as one self-contained HTML file')
    .action(
      action((opts: SimulateOptions) => {
        const schedule = SCHEDULES.find((s) => s === opts.challenges);
        if (schedule === undefined) {
          throw new CapanodeError('sim-options-invalid', `--challenges "${opts.challenges}" is not one of ${SCHEDULES.join(', ')}`, { hint: 'Pass --challenges windowed (the default), rounds or independent.' });
        }
        const run = simulate({
          nodes: integer('--nodes', opts.nodes),
          epochs: integer('--epochs', opts.epochs),
          seed: integer('--seed', opts.seed),
          mix: opts.mix === undefined ? DEFAULT_MIX : parseMix(opts.mix),
          params: readParams(opts.params),
          schedule,
        });
        const report = buildReport(run);
        if (opts.out !== undefined) {
          try {
            writeFileAtomic(opts.out, renderHtml(report), { mode: 0o644, overwrite: true });
          } catch (e) {
            throw new CapanodeError('io-error', `cannot write ${opts.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'Check that the folder exists and is writable.', cause: e });
          }
        }
        if (opts.json === true) printJson(report);
        else process.stdout.write(`${summary(report)}${opts.out === undefined ? '' : `\nHTML report: ${opts.out}`}\n`);
      }),
    );
}
