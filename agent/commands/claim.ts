/**
 * `capanode claim [--to ADDRESS] [--dry-run] [--json]`: through the running
 * daemon, journals a claim record for what the coordinator says is
 * claimable, and prints the coordinator's signed receipt. Exit 4 when
 * nothing is claimable, 3 when the daemon is not running, 1 when the claim
 * was refused or not answered in time.
 */
import type { Command } from 'commander';
import { action, EXIT, ExitWith, printJson } from '../../common/cli.js';
import { isCapanodeError } from '../../common/errors.js';
import { controlRequest } from '../control/index.js';
import type { ClaimDifference, ClaimResult } from '../service/earnings.js';
import { pathsFrom, withCommonOptions, type CommonOptions } from './options.js';

interface ClaimOptions extends CommonOptions {
  to?: string;
  dryRun?: boolean;
}

/** How long the daemon waits for the coordinator's answer, and the CLI for the daemon. */
const ANSWER_WAIT_MS = 45_000;
const CONTROL_TIMEOUT_MS = ANSWER_WAIT_MS + 15_000;

function credits(micro: number): string {
  return `${(micro / 1e6).toFixed(6)} credits`;
}

function epochs(range: [number, number] | null): string {
  return range === null ? '-' : range[0] === range[1] ? `epoch ${range[0]}` : `epochs ${range[0]}..${range[1]}`;
}

function differenceLines(list: readonly ClaimDifference[]): string[] {
  if (list.length === 0) return ['the coordinator\'s view and the journal agree: no backlog, no rejected records, no penalties'];
  return ['where the coordinator\'s view differs from the journal:', ...list.map((d) => `  - ${d.message}`)];
}

function render(r: ClaimResult): string {
  switch (r.status) {
    case 'paid':
      return [
        `claimed ${credits(r.amount)} (earned in ${epochs(r.epochs)}), paid to ${r.to}`,
        `receipt for claim seq ${r.claimSeq}, signed by the coordinator:`,
        `  ${JSON.stringify(r.receipt)}`,
      ].join('\n');
    case 'refused':
      return [
        `claim seq ${r.claimSeq} REFUSED (${r.code}): ${r.message}`,
        `  requested ${credits(r.requested)}; vested ${credits(r.vested)}, claimed ${credits(r.claimed)}, claimable ${credits(r.claimable)}, still vesting ${credits(r.unvested)}`,
        '  the claim record stays in the journal (it is acknowledged); see `capanode claim --dry-run`',
      ].join('\n');
    case 'pending':
      return r.message;
    case 'nothing':
      return r.message;
    case 'dry-run':
      return [
        r.amount > 0 ? `would claim ${credits(r.amount)} from ${epochs(r.epochs)} to ${r.to}` : 'nothing is claimable now',
        `coordinator's account as of ${new Date(r.account.asOf).toISOString()}${r.account.epoch === null ? '' : ` (last closed epoch ${r.account.epoch})`}: vested ${credits(r.account.vested)}, claimed ${credits(r.account.claimed)}, claimable ${credits(r.account.claimable)}, still vesting ${credits(r.account.unvested)}`,
        ...differenceLines(r.differences),
      ].join('\n');
  }
}

function exitCode(r: ClaimResult): number {
  switch (r.status) {
    case 'paid':
      return EXIT.ok;
    case 'dry-run':
      return r.amount > 0 ? EXIT.ok : EXIT.nothingToClaim;
    case 'nothing':
      return EXIT.nothingToClaim;
    case 'refused':
    case 'pending':
      return EXIT.failure;
  }
}

export function registerClaimCommands(program: Command): void {
  withCommonOptions(
    program
      .command('claim')
      .description('claim vested credits through the running daemon and print the coordinator\'s signed receipt (exit 4: nothing to claim)')
      .option('--to <address>', 'where the credits are paid (default: config claimTo, else the node id)')
      .option('--dry-run', 'show what would be claimed and where the coordinator\'s view differs from the journal; claim nothing')
      .option('--json', 'print one JSON document'),
  ).action(
    action(async (opts: ClaimOptions) => {
      const paths = pathsFrom(opts);
      const params = { ...(opts.to === undefined ? {} : { to: opts.to }), dryRun: opts.dryRun === true, timeoutMs: ANSWER_WAIT_MS };
      let result: ClaimResult;
      try {
        result = (await controlRequest(paths.controlSocket, 'claim', params, CONTROL_TIMEOUT_MS)) as ClaimResult;
      } catch (e) {
        if (!isCapanodeError(e, 'daemon-not-running')) throw e;
        if (opts.json === true) printJson({ ok: false, error: e.toJSON() });
        throw new ExitWith(EXIT.daemonNotRunning, `capanode: ${e.message}\n  hint: ${e.hint ?? 'start the daemon'}`);
      }
      if (opts.json === true) printJson(result);
      else process.stdout.write(`${render(result)}\n`);
      const code = exitCode(result);
      if (code !== EXIT.ok) throw new ExitWith(code as 1 | 4);
    }),
  );
}
