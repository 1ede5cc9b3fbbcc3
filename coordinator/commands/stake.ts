/**
 * `capanode-coordinator stake --node ID --amount N`: credits bonded stake
 * to a node (micro-credits). Here an operator action; an on-chain bridge
 * does the same through Store.creditStake with the deposit's reference
 * (docs/INCENTIVES.md §9), so replaying a deposit credits it once.
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { action, printJson } from '../../common/cli.js';
import { CapanodeError } from '../../common/errors.js';
import { credits } from '../rewards/explain.js';
import { defaultStoreUrl } from '../paths.js';
import { openStore } from '../store/index.js';

interface StakeOptions {
  store?: string;
  node: string;
  amount: string;
  ref?: string;
  source: string;
  note?: string;
  json?: boolean;
}

/** Largest credit accepted at once: 10^9 credits. */
const MAX_CREDIT = 1e15;

export function registerStakeCommand(program: Command): void {
  program
    .command('stake')
    .description('credit bonded stake to a node (micro-credits); it counts from the first epoch that starts after the credit')
    .requiredOption('--node <id>', 'the node (64 hex characters)')
    .requiredOption('--amount <micro>', 'micro-credits to bond (1 credit = 1000000)')
    .option('--ref <text>', 'unique reference of this credit (a bridge: chain:TX:LOG); a reference already credited is not credited again (default: a fresh one)')
    .option('--source <name>', 'who credits it', 'operator')
    .option('--note <text>', 'a note kept with the credit')
    .option('--store <url>', `ledger store, sqlite:FILE or postgres://USER@HOST/DB (default ${defaultStoreUrl()})`)
    .option('--json', 'print JSON')
    .action(
      action(async (opts: StakeOptions) => {
        if (!/^[0-9a-f]{64}$/.test(opts.node)) throw new CapanodeError('bad-input', `--node ${opts.node}: must be a node id, 64 lowercase hex characters`, { hint: '`capanode-coordinator nodes` lists them.' });
        if (!/^\d{1,16}$/.test(opts.amount) || Number(opts.amount) < 1 || Number(opts.amount) > MAX_CREDIT) {
          throw new CapanodeError('bad-input', `--amount ${opts.amount}: must be a whole number of micro-credits from 1 to ${MAX_CREDIT}`, { hint: 'Example: --amount 100000000 bonds 100 credits.' });
        }
        for (const [flag, text] of [['--ref', opts.ref], ['--source', opts.source], ['--note', opts.note]] as const) {
          if (text !== undefined && (text.length < 1 || text.length > 256)) throw new CapanodeError('bad-input', `${flag}: must be 1 to 256 characters`);
        }
        const at = Date.now();
        const ref = opts.ref ?? `operator:${at}:${randomBytes(8).toString('hex')}`;
        const amount = Number(opts.amount);
        const store = openStore(opts.store ?? defaultStoreUrl());
        try {
          const known = (await store.getNode(opts.node)) !== null;
          const credited = await store.creditStake({ ref, node: opts.node, amount, at, source: opts.source, note: opts.note ?? null });
          const bonded = (await store.stakeCredits(at + 1, opts.node)).reduce((s, x) => s + x.amount, 0);
          const slashed = (await store.ledgerEntries({ node: opts.node })).reduce((s, e) => s + e.slashed, 0);
          const stake = Math.max(0, bonded - slashed);
          if (opts.json === true) {
            printJson({ node: opts.node, ref, amount, credited, stake, knownNode: known });
          } else {
            process.stdout.write(
              `${credited ? `credited ${credits(amount)} credits of stake to` : `reference ${ref} was already credited; nothing changed for`} ${opts.node}\n` +
                `bonded stake now ${credits(stake)} credits; it counts from the next epoch that starts\n` +
                (known ? '' : 'note: this node has not connected yet; the stake waits for it\n'),
            );
          }
        } finally {
          await store.close();
        }
      }),
    );
}
