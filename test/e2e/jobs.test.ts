import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobRow } from '../../coordinator/store/index.js';
import { COORDINATOR_CLI, runCli } from '../helpers/cli.js';
import { setupAgent, setupCoordinator, until } from '../helpers/processes.js';
import { tempDir } from '../helpers/tmp.js';
import { freshStoreUrl, STORE_KINDS } from '../helpers/postgres.js';

// The whole path through the real CLIs: an operator submits, the coordinator assigns, the agent runs
// the job and signs its usage, the coordinator accepts it; and a cancel kills a running exec job.
describe.each(STORE_KINDS)('jobs end to end (%s store)', (kind) => {
  it('a pot job and a cancelled exec job, from `jobs submit` to the usage judgement', async () => {
    const coordinator = await setupCoordinator(tempDir('capanode-jobs-c-'), { store: await freshStoreUrl(kind) });
    const script = join(tempDir('capanode-jobs-x-'), 'long.sh');
    chmodSync(join(script, '..'), 0o755);
    writeFileSync(script, '#!/bin/sh\nsleep 1000\n', { mode: 0o755 });
    const agent = await setupAgent(tempDir('capanode-jobs-a-'), coordinator, { workloads: ['pot', 'bench', 'exec'], execAllowlist: [script] });
    const server = coordinator.start(['--job-poll-ms', '100']);
    const node = agent.start();
    const jobs = async (args: string[]) => {
      const r = await runCli(['jobs', ...args, '--store', coordinator.store], { cli: COORDINATOR_CLI });
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    const job = async (id: string) => (JSON.parse(await jobs(['list', '--json'])) as JobRow[]).find((j) => j.id === id);
    try {
      await jobs(['submit', '--workload', 'pot', '--id', 'pot-1', '--param', `seed=${'ab'.repeat(32)}`, '--param', 'n=64', '--param', 'reps=2', '--fee', '1000']);
      await until(async () => (await job('pot-1'))?.usageAccepted === true, 60_000, 'the pot job\'s usage to be accepted');
      expect(await job('pot-1')).toMatchObject({ state: 'done', node: agent.nodeId, audit: 'none', usageCode: null });
      expect((await job('pot-1'))?.outputSha256).toMatch(/^[0-9a-f]{64}$/);

      await jobs(['submit', '--workload', 'exec', '--id', 'exec-1', '--param', `command=${script}`]);
      await until(async () => (await job('exec-1'))?.state === 'running', 30_000, 'the exec job to run');
      expect(await jobs(['cancel', 'exec-1'])).toBe('exec-1: cancel requested\n');
      await until(async () => (await job('exec-1'))?.usageAt != null, 30_000, 'the cancelled job\'s usage');
      expect(await job('exec-1')).toMatchObject({ state: 'cancelled', usageAccepted: true, outputSha256: null });
      // The agent's status lists no job once both ended; its journal holds both usage records.
      const status = JSON.parse((await runCli(['status', '--data-dir', agent.dir, '--json'])).stdout) as { jobs: unknown[]; journal: { recordsByKind: Record<string, number> } };
      expect(status.jobs).toEqual([]);
      expect(status.journal.recordsByKind.usage).toBe(2);
    } finally {
      expect((await node.kill('SIGTERM')).code, node.output()).toBe(0);
      await server.kill('SIGTERM');
    }
  }, 150_000);
});
