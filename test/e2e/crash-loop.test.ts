/**
 * DESIGN §5/§9 end to end, with real processes on 127.0.0.1: records stream
 * through kill -9 of the agent (50 times) and of the coordinator (20 times),
 * and through a long partition; afterwards the coordinator holds seq 1..H
 * once each, the chain verifies, and the agent's watermark is H.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JournalReader } from '../../agent/journal/index.js';
import { verifyChain } from '../../proofs/chain.js';
import { setupAgent, setupCoordinator, until, type Proc } from '../helpers/processes.js';
import { tempDir } from '../helpers/tmp.js';

function coordinatorRecords(storeFile: string, node: string): { seq: number; canonical: string; sig: string }[] {
  const db = new Database(storeFile, { readonly: true });
  try {
    return db.prepare('SELECT seq, canonical, sig FROM records WHERE node = ? ORDER BY seq').all(node) as { seq: number; canonical: string; sig: string }[];
  } finally {
    db.close();
  }
}

function journalState(file: string): { head: number; watermark: number } {
  const r = JournalReader.open(file);
  try {
    return { head: r.head()?.seq ?? 0, watermark: r.watermark() };
  } finally {
    r.close();
  }
}

function assertCoordinatorHolds(storeFile: string, node: string, head: number): void {
  const rows = coordinatorRecords(storeFile, node);
  expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
  const chain = verifyChain(rows.map((r) => ({ env: JSON.parse(r.canonical) as unknown, sig: r.sig })));
  expect(chain.ok).toBe(true);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('link end to end (real processes)', () => {
  it('survives kill -9 of the agent 50 times and of the coordinator 20 times with no gap and no duplicate', async () => {
    const dir = tempDir('capanode-crash-');
    const coordinator = await setupCoordinator(join(dir, 'c'));
    const agent = await setupAgent(join(dir, 'a'), coordinator);
    const journalFile = join(agent.dir, 'journal.db');
    let server: Proc = coordinator.start();
    let coordinatorKills = 0;
    let rng = 12345;
    const random = () => ((rng = (rng * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    try {
      for (let i = 0; i < 50; i++) {
        const a = agent.start();
        await sleep(900 + Math.floor(random() * 600));
        if (coordinatorKills < 20 && i % 5 !== 4) {
          if (random() < 0.5) {
            await server.kill('SIGKILL');
            coordinatorKills++;
            server = coordinator.start();
          }
        }
        await sleep(Math.floor(random() * 300));
        const exit = await a.kill('SIGKILL');
        expect(exit.signal, a.output()).toBe('SIGKILL');
      }
      while (coordinatorKills < 20) {
        await server.kill('SIGKILL');
        coordinatorKills++;
        server = coordinator.start();
      }
      // Let everything drain: the agent runs until its watermark reaches its head.
      const before = journalState(journalFile).head;
      const a = agent.start();
      await until(() => {
        const s = journalState(journalFile);
        return s.head > before && s.watermark === s.head;
      }, 30_000, 'the backlog to drain');
      const stopped = await a.kill('SIGTERM');
      expect(stopped.code, a.output()).toBe(0);
      await server.kill('SIGTERM');
      const { head, watermark } = journalState(journalFile);
      expect(head).toBeGreaterThan(50);
      // The last uptime record written on SIGTERM may be unacked only if the link was already down.
      expect(watermark).toBe(head);
      assertCoordinatorHolds(coordinator.store.slice('sqlite:'.length), agent.nodeId, head);
      expect(coordinatorKills).toBe(20);
    } finally {
      await server.kill('SIGKILL');
    }
  }, 240_000);

  it('delivers a backlog of 10,000 records after a partition, in order, once', async () => {
    const dir = tempDir('capanode-partition-');
    const coordinator = await setupCoordinator(join(dir, 'c'));
    const agent = await setupAgent(join(dir, 'a'), coordinator, { heartbeatIntervalMs: 100 });
    const journalFile = join(agent.dir, 'journal.db');
    // The partition: the agent runs with no coordinator reachable while its journal fills.
    const { fillJournal } = await import('../helpers/journal-fill.js');
    const a = agent.start();
    await until(() => journalState(journalFile).head >= 5, 10_000, 'the agent to start signing');
    await a.kill('SIGTERM');
    await fillJournal(agent.dir, 10_000);
    const b = agent.start();
    await until(() => journalState(journalFile).head >= 10_010, 10_000, 'more records during the partition');
    expect(journalState(journalFile).watermark).toBe(0);
    const server = coordinator.start();
    try {
      await until(() => {
        const s = journalState(journalFile);
        return s.watermark === s.head;
      }, 60_000, 'the partition backlog to drain');
      await b.kill('SIGTERM');
      const { head } = journalState(journalFile);
      expect(head).toBeGreaterThanOrEqual(10_010);
      assertCoordinatorHolds(coordinator.store.slice('sqlite:'.length), agent.nodeId, head);
    } finally {
      await b.kill('SIGKILL');
      await server.kill('SIGKILL');
    }
  }, 120_000);
});
