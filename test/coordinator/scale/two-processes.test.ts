/**
 * Two `capanode-coordinator serve` processes on one PostgreSQL database,
 * with the same key: a node connecting to both at once is refused by one;
 * its session moves to the other through a kill -9 with nothing lost or
 * doubled. (Epochs closed from two coordinators at once: two-coordinators.test.ts,
 * since the shortest epoch is a minute.)
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { makeChain, testKey } from '../../helpers/keys.js';
import { freshPostgresUrl, postgresUnavailable } from '../../helpers/postgres.js';
import { SimAgent } from '../../helpers/sim-agent.js';
import { tempDir } from '../../helpers/tmp.js';
import { spawnCoordinator, type CoordinatorProcess } from '../process.js';

const procs: CoordinatorProcess[] = [];
const agents: SimAgent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) a.kill();
  for (const p of procs.splice(0)) await p.kill().catch(() => undefined);
});

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

describe.skipIf(postgresUnavailable !== null)('two coordinator processes on one PostgreSQL', () => {
  it('one session per node across both; the session moves through a kill -9 with nothing lost or doubled', async () => {
    const storeUrl = await freshPostgresUrl();
    const key = testKey('two-process-coordinator');
    const settings = { sessionLeaseMs: 2_000, verifyWorkers: 0 };
    const a = await spawnCoordinator({ dir: tempDir(), key, storeUrl, settings });
    procs.push(a);
    const b = await spawnCoordinator({ dir: tempDir(), key, storeUrl, settings });
    procs.push(b);
    const node = testKey('two-process-node');
    const chain = makeChain(node, 600);

    const first = await SimAgent.connect({ url: a.url, coordinatorId: key.id, key: node });
    agents.push(first);
    // The same node at the other process while the first holds its session: refused.
    await expect(SimAgent.connect({ url: b.url, coordinatorId: key.id, key: node })).rejects.toMatchObject({ closed: { code: 4003 } });
    first.sendRecords(chain.slice(0, 300));
    await first.waitForAck(300);
    first.sendRecords(chain.slice(300, 400));
    await a.kill();
    const acked = first.acked;
    // The dead process's lease lapses; the agent's retries then land on the other process.
    const second = await SimAgent.connectRetry({ url: b.url, coordinatorId: key.id, key: node }, 400);
    agents.push(second);
    const head = second.welcome.head!;
    expect(head.seq).toBeGreaterThanOrEqual(acked);
    expect(head.hash).toBe(chain[head.seq - 1]!.hash);
    // Resent from before the head: duplicates are acknowledged, not stored twice.
    second.sendRecords(chain.slice(head.seq - 50, 600));
    await second.waitForAck(600);
    const seqs = await query<{ seq: string }>(storeUrl, 'SELECT seq FROM records WHERE node = $1 ORDER BY seq', [node.id]);
    expect(seqs.map((r) => Number(r.seq))).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));

  }, 60_000);
});
