/**
 * `capanode-coordinator ledger [--node ID] [--epoch N] [--json]`: the ledger
 * from the store (serve may be running): epochs with what they paid,
 * carried and burned; nodes with what they earned, vested, claimed, were
 * slashed and burned; one node's epochs and claims; and, for a node and an
 * epoch, the payout explained from the facts to the share.
 */
import type { Command } from 'commander';
import { action, printJson } from '../../common/cli.js';
import { CapanodeError } from '../../common/errors.js';
import { ledgerReport, type LedgerReport, type NodeEpochLine } from '../ledger/report.js';
import { credits } from '../rewards/explain.js';
import { REP_ONE } from '../rewards/params.js';
import { defaultStoreUrl } from '../paths.js';
import { openStore } from '../store/index.js';

interface LedgerOptions {
  store?: string;
  node?: string;
  epoch?: string;
  at?: string;
  json?: boolean;
}

function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(head), ...body.map(line)].join('\n');
}

const c = (micro: number): string => credits(micro);
const rep = (r: number | null): string => (r === null ? '-' : (r / REP_ONE).toFixed(6));
const iso = (ms: number): string => new Date(ms).toISOString();

function nodeEpochRows(lines: readonly NodeEpochLine[], first: 'node' | 'epoch'): string {
  return table(
    [first === 'node' ? 'NODE' : 'EPOCH', 'EARNED', 'VESTED', 'CLAIMED', 'CLAIMABLE', 'SLASHED', 'BURNED', 'REPUTATION', 'PENALTIES'],
    lines.map((l) => [
      first === 'node' ? l.node : String(l.epoch),
      c(l.earned),
      c(l.vested),
      c(l.claimed),
      c(l.claimable),
      c(l.slashed),
      c(l.burned),
      rep(l.reputationAfter),
      l.penalties.map((p) => `${p.kind}${p.count > 1 ? ` x${p.count}` : ''}`).join(', ') + (l.banned ? ' BANNED' : ''),
    ]),
  );
}

export function renderLedger(r: LedgerReport): string {
  const asOf = `credits; vesting as of ${iso(r.asOf)}`;
  switch (r.view) {
    case 'overview': {
      if (r.epochs.length === 0) return 'no epoch has closed yet';
      const epochs = table(
        ['EPOCH', 'START', 'NODES', 'BUDGET', 'PAID', 'CARRIED', 'BURNED', 'INPUTS HASH'],
        r.epochs.map((e) => [String(e.index), iso(e.startMs), String(e.nodes), c(e.budget), c(e.payouts), c(e.carryOut), c(e.burned), e.inputsHash.slice(0, 16)]),
      );
      const nodes = table(
        ['NODE', 'EARNED', 'VESTED', 'CLAIMED', 'CLAIMABLE', 'SLASHED', 'BURNED', 'STAKE', 'REPUTATION'],
        r.nodes.map((n) => [n.node, c(n.earned), c(n.vested), c(n.claimed), c(n.claimable), c(n.slashed), c(n.burned), c(n.stake), `${rep(n.reputation)}${n.banned ? ' BANNED' : ''}`]),
      );
      return `${epochs}\n\n${nodes}\n(${asOf})`;
    }
    case 'epoch': {
      const e = r.epoch;
      return [
        `epoch ${e.index} [${iso(e.startMs)}, ${iso(e.endMs)}), closed ${iso(e.closedAt)}, inputs hash ${e.inputsHash}`,
        `budget ${c(e.budget)} = emission ${c(e.emission)} + carried in ${c(e.carryIn)} + fee cut ${c(e.feeCut)}; paid ${c(e.payouts)}, carried over ${c(e.carryOut)}, burned ${c(e.burned)} (slashed ${c(e.slashed)}, forfeited ${c(e.forfeited)})`,
        '',
        nodeEpochRows(r.nodes, 'node'),
        `(${asOf})`,
      ].join('\n');
    }
    case 'node': {
      const n = r.node;
      const claims =
        r.claims.length === 0
          ? 'no claims'
          : table(
              ['CLAIM SEQ', 'REQUESTED', 'PAID', 'EPOCHS', 'TO', 'DECIDED', 'REFUSED'],
              r.claims.map((x) => [String(x.seq), c(x.requested), c(x.paid), `${x.epochs[0]}..${x.epochs[1]}`, x.to, iso(x.decidedAt), x.code ?? '']),
            );
      return [
        `node ${n.node}${n.banned ? ' (BANNED)' : ''}`,
        `earned ${c(n.earned)}: vested ${c(n.vested)}, unvested ${c(n.unvested)}, forfeited ${c(n.forfeited)}; claimed ${c(n.claimed)}, claimable ${c(n.claimable)}`,
        `stake ${c(n.stake)} (slashed ${c(n.slashed)} in all), burned ${c(n.burned)}, reputation ${rep(n.reputation)}`,
        '',
        nodeEpochRows(r.epochs, 'epoch'),
        '',
        claims,
        `(${asOf})`,
      ].join('\n');
    }
    case 'payout': {
      const l = r.entry;
      return [
        ...r.explanation,
        'ledger',
        `  earned ${c(l.earned)}: vested ${c(l.vested)}, unvested ${c(l.unvested)}, claimed ${c(l.claimed)}, claimable ${c(l.claimable)}${l.forfeited > 0 ? `, forfeited ${c(l.forfeited)}` : ''}`,
        `  inputs hash ${r.epoch.inputsHash}`,
        `(${asOf})`,
      ].join('\n');
    }
  }
}

export function registerLedgerCommand(program: Command): void {
  program
    .command('ledger')
    .description('the ledger: epochs (paid, carried, burned) and nodes (earned, vested, claimed, slashed, burned); --node and --epoch explain one payout')
    .option('--store <url>', `ledger store, sqlite:FILE or postgres://USER@HOST/DB (default ${defaultStoreUrl()})`)
    .option('--node <id>', "one node: its epochs and claims; with --epoch, that payout explained")
    .option('--epoch <n>', 'one closed epoch: every node in it; with --node, that payout explained')
    .option('--at <ms>', 'compute vesting at this time (ms since the Unix epoch; default now)')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: LedgerOptions) => {
        if (opts.node !== undefined && !/^[0-9a-f]{64}$/.test(opts.node)) {
          throw new CapanodeError('bad-input', `--node ${opts.node}: must be a node id, 64 lowercase hex characters`, { hint: '`capanode-coordinator nodes` lists them.' });
        }
        for (const [flag, text] of [['--epoch', opts.epoch], ['--at', opts.at]] as const) {
          if (text !== undefined && !/^\d{1,15}$/.test(text)) throw new CapanodeError('bad-input', `${flag} ${text}: must be a non-negative whole number`, { hint: `Example: ${flag} 3` });
        }
        const store = openStore(opts.store ?? defaultStoreUrl(), { readonly: true });
        try {
          const report = await ledgerReport(store, {
            ...(opts.node === undefined ? {} : { node: opts.node }),
            ...(opts.epoch === undefined ? {} : { epoch: Number(opts.epoch) }),
            atMs: opts.at === undefined ? Date.now() : Number(opts.at),
          });
          if (opts.json === true) printJson(report);
          else process.stdout.write(`${renderLedger(report)}\n`);
        } finally {
          await store.close();
        }
      }),
    );
}
