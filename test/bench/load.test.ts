/**
 * bench:load, run for real and small: the built generator (npm test builds
 * dist/) with 20 agents against one coordinator process for a few seconds.
 * Records must be acknowledged and stored, and the report must carry every
 * figure; no timing is asserted (speed goals belong to the benchmark).
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { queryStore } from '../coordinator/process.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const LOAD_CLI = fileURLToPath(new URL('../../dist/bench/load/run.js', import.meta.url));

interface Goal {
  value: number | null;
  goal: string;
  met: boolean;
}

interface HoldReport {
  load: {
    mode: string;
    connections: { target: number; atEnd: number; minDuringHold: number };
    records: { sent: number; acked: number; perSec: number; offeredPerSec: number };
    ackLatencyMs: { p50: number | null; p99: number | null; samples: number };
    failures: { total: number };
    reconnects: number;
    coordinators: { pid: number; rssIdleMB: number | null; rssHoldMB: number | null; connectionsAtEnd: number }[];
    memoryPerConnectionKB: number | null;
    goals: Record<string, Goal>;
  };
}

describe('npm run bench:load', () => {
  it('connects 20 agents to one coordinator, gets their signed uptime records acknowledged and stored, and reports every figure', async () => {
    const store = join(tempDir('capanode-load-test-'), 'ledger.db');
    const run = await runCli(['--agents', '20', '--duration', '3', '--interval', '0.5', '--ramp', '200', '--settle', '0', '--workers', '2', '--store', `sqlite:${store}`], {
      cli: LOAD_CLI,
      timeoutMs: 40_000,
    });
    expect(run.code, run.stderr).toBe(0);
    const { load } = JSON.parse(run.stdout) as HoldReport;
    expect(load.mode).toBe('hold');
    expect(load.connections.target).toBe(20);
    expect(load.connections.atEnd).toBe(20);
    expect(load.connections.minDuringHold).toBe(20);
    expect(load.records.acked).toBeGreaterThan(0);
    expect(load.records.offeredPerSec).toBe(40);
    expect(load.ackLatencyMs.samples).toBeGreaterThan(0);
    expect(load.ackLatencyMs.p50).toBeTypeOf('number');
    expect(load.ackLatencyMs.p99).toBeGreaterThanOrEqual(load.ackLatencyMs.p50 ?? Infinity);
    expect(load.failures.total).toBe(0);
    expect(load.reconnects).toBe(0);
    expect(load.coordinators).toHaveLength(1);
    expect(load.coordinators[0]?.connectionsAtEnd).toBe(20);
    expect(Object.keys(load)).toContain('memoryPerConnectionKB');
    expect(Object.keys(load.goals).sort()).toEqual(['connectionsHeld', 'coordinatorProcesses', 'holdSeconds', 'memoryPerConnectionKB', 'p99AckMs', 'recordsPerSec']);
    expect(load.goals['connectionsHeld']).toEqual({ value: 20, goal: '>= 10000', met: false });

    // Every acknowledged record is in the store: 20 chains, each from seq 1 without a gap.
    const chains = queryStore<{ node: string; first: number; last: number; n: number }>(store, 'SELECT node, MIN(seq) AS first, MAX(seq) AS last, COUNT(*) AS n FROM records GROUP BY node');
    expect(chains).toHaveLength(20);
    for (const c of chains) expect([c.first, c.last]).toEqual([1, c.n]);
    expect(chains.reduce((a, c) => a + c.n, 0)).toBeGreaterThanOrEqual(load.records.acked);
  }, 45_000);

  it('refuses several coordinators without a shared store, and bad numbers as usage errors', async () => {
    const noStore = await runCli(['--coordinators', '2'], { cli: LOAD_CLI });
    expect(noStore.code).toBe(1);
    expect(noStore.stderr).toMatch(/--coordinators 2 needs a store the coordinator processes share/);
    expect(noStore.stderr).toMatch(/--store postgres:\/\//);
    const sqlite = await runCli(['--coordinators', '2', '--store', 'sqlite:/tmp/x.db'], { cli: LOAD_CLI });
    expect(sqlite.code).toBe(1);
    expect(sqlite.stderr).toMatch(/one SQLite file is served by one coordinator process/);
    const bad = await runCli(['--agents', 'many'], { cli: LOAD_CLI });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--agents.*must be a whole number/);
  });
});
