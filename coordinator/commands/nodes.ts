/** `capanode-coordinator nodes`: every node the store knows, from the store itself (serve may be running). */
import type { Command } from 'commander';
import { action, printJson } from '../../common/cli.js';
import { openStore } from '../store/index.js';
import type { NodeInfo } from '../store/types.js';
import { defaultStoreUrl } from '../paths.js';

interface NodesOptions {
  store?: string;
  json?: boolean;
}

export interface NodeListing {
  id: string;
  connected: boolean;
  headSeq: number;
  lastSeen: string;
  skewMs: number | null;
  gflops: number | null;
  strikes: number;
  banned: boolean;
  banReason: string | null;
  agent: string | null;
  gpus: number;
}

export function nodeListing(n: NodeInfo): NodeListing {
  return {
    id: n.id,
    connected: n.connected,
    headSeq: n.headSeq,
    lastSeen: new Date(n.lastSeen).toISOString(),
    skewMs: n.skewMs,
    gflops: n.gflops,
    strikes: n.strikes,
    banned: n.banned,
    banReason: n.banReason,
    agent: n.agent,
    gpus: n.inventory?.gpus.length ?? 0,
  };
}

function table(rows: NodeListing[]): string {
  const head = ['NODE', 'CONNECTED', 'HEAD', 'LAST SEEN', 'SKEW MS', 'GFLOPS', 'STRIKES', 'BANNED'];
  const body = rows.map((r) => [r.id, r.connected ? 'yes' : 'no', String(r.headSeq), r.lastSeen, r.skewMs === null ? '-' : String(r.skewMs), r.gflops === null ? '-' : String(r.gflops), String(r.strikes), r.banned ? `yes (${r.banReason ?? ''})` : 'no']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(head), ...body.map(line)].join('\n');
}

export function registerNodesCommand(program: Command): void {
  program
    .command('nodes')
    .description('list nodes: connected, head seq, last seen, clock skew, latest verified GFLOP/s, strikes, banned')
    .option('--store <url>', `ledger store, sqlite:FILE or postgres://USER@HOST/DB (default ${defaultStoreUrl()})`)
    .option('--json', 'print JSON')
    .action(
      action(async (opts: NodesOptions) => {
        const store = openStore(opts.store ?? defaultStoreUrl(), { readonly: true });
        try {
          const rows = (await store.listNodes()).map(nodeListing);
          if (opts.json === true) printJson({ nodes: rows });
          else process.stdout.write(rows.length === 0 ? 'no nodes yet\n' : `${table(rows)}\n`);
        } finally {
          await store.close();
        }
      }),
    );
}
