/**
 * 200 concurrent simulated agents streaming to one coordinator process, some
 * of them cut off mid-stream and reconnecting: every record is acked and
 * stored exactly once, none lost. The issue asks for 60 s; the suite runs
 * 8 s by default to stay fast on two cores (CAPANODE_SOAK_SECONDS=60 runs
 * the full soak).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyPair } from '../../proofs/keys.js';
import { makeChain, testKey } from '../helpers/keys.js';
import { SimAgent } from '../helpers/sim-agent.js';
import { tempDir } from '../helpers/tmp.js';
import { queryStore, spawnCoordinator, type CoordinatorProcess } from './process.js';

const AGENTS = 200;
const SECONDS = Number(process.env['CAPANODE_SOAK_SECONDS'] ?? 8);
const PER_SECOND = 4;
const PER_AGENT = Math.max(8, Math.round(SECONDS * PER_SECOND));

let c: CoordinatorProcess;

beforeAll(async () => {
  c = await spawnCoordinator({ dir: tempDir(), settings: { logLevel: 'warn' } });
});
afterAll(async () => {
  expect(await c.stop()).toBe(0);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function connect(key: KeyPair): Promise<SimAgent> {
  // A node that was cut off may find its previous session still closing (4003): connectRetry backs off and retries.
  return SimAgent.connectRetry({ url: c.url, coordinatorId: c.key.id, key });
}

describe(`${AGENTS} concurrent agents for ${SECONDS} s`, () => {
  it('acks every record, stores each exactly once, loses none, also across network cuts', async () => {
    const keys = Array.from({ length: AGENTS }, (_, i) => testKey(`load-${i}`));
    const chains = keys.map((k) => makeChain(k, PER_AGENT));
    const started = Date.now();
    let cuts = 0;
    await Promise.all(
      keys.map(async (key, i) => {
        const chain = chains[i]!;
        await sleep(Math.random() * 500);
        let agent = await connect(key);
        let next = 0;
        // One agent in five loses its connection once, at a random point, without a close handshake.
        const cutAt = i % 5 === 0 ? 1 + Math.floor(Math.random() * (chain.length - 2)) : -1;
        let cut = false;
        const pause = (SECONDS * 1000) / chain.length;
        while (next < chain.length) {
          const n = Math.min(chain.length - next, 1 + Math.floor(Math.random() * 3));
          agent.sendRecords(chain.slice(next, next + n));
          next += n;
          if (cutAt >= 0 && next >= cutAt && !cut) {
            cut = true;
            cuts += 1;
            agent.kill();
            await agent.closed;
            agent = await connect(key);
            // At least once: resend everything the coordinator does not hold.
            next = agent.welcome.head?.seq ?? 0;
            expect(agent.welcome.head === null || agent.welcome.head.hash === chain[next - 1]!.hash).toBe(true);
          }
          await sleep(pause * n * (0.5 + Math.random()));
        }
        await agent.waitForAck(chain.length, 60_000);
        expect(agent.nacks).toEqual([]);
        await agent.close();
      }),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(SECONDS * 1000 * 0.5);
    expect(cuts).toBeGreaterThan(0);
    const counts = queryStore<{ node: string; n: number; lo: number; hi: number }>(c.storeFile, 'SELECT node, count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM records GROUP BY node');
    expect(counts).toHaveLength(AGENTS);
    for (const row of counts) expect(row).toMatchObject({ n: PER_AGENT, lo: 1, hi: PER_AGENT });
    const heads = queryStore<{ id: string; head_hash: string }>(c.storeFile, 'SELECT id, head_hash FROM nodes');
    const want = new Map(keys.map((k, i) => [k.id, chains[i]!.at(-1)!.hash]));
    for (const h of heads) expect(h.head_hash).toBe(want.get(h.id));
  }, 120_000);
});
