/**
 * The whole loop through the real CLI (DESIGN §3 `npm start`): `init`, then
 * `start --devnet` in a fresh directory (devnet data in ./.devnet), records
 * acknowledged, the first one-minute epoch closed with earnings, `claim`
 * answered with a receipt signed by the devnet coordinator, the claim in
 * `status`, SIGTERM, exit 0, and a journal that verifies. About 75 s: one
 * devnet epoch (60 s) and its close delay (10 s).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ClaimResult } from '../../agent/service/earnings.js';
import type { StatusDocument } from '../../agent/status/index.js';
import { readKeyFile } from '../../common/keyfile.js';
import type { LedgerReport } from '../../coordinator/ledger/index.js';
import { verifyCoordinatorMessage } from '../../proofs/messages.js';
import { AGENT_CLI, COORDINATOR_CLI, runCli } from '../helpers/cli.js';
import { startProcess, until } from '../helpers/processes.js';
import { tempDir } from '../helpers/tmp.js';

describe('devnet end to end (real CLI)', () => {
  it('init, start --devnet, earnings after the first epoch, claim with a signed receipt, SIGTERM, journal verify', async () => {
    const dir = tempDir('capanode-devnet-');
    const agentDir = join(dir, '.devnet', 'agent');
    const init = await runCli(['init', '--data-dir', agentDir, '--json']);
    expect(init.code, init.stderr).toBe(0);
    const nodeId = (JSON.parse(init.stdout) as { node: string }).node;

    // No daemon yet: exit 3.
    expect((await runCli(['claim', '--data-dir', agentDir])).code).toBe(3);

    const daemon = startProcess(AGENT_CLI, ['start', '--devnet'], {}, dir);
    try {
      // Polled every 2 s: each status is a process of its own, and the devnet shares two cores with it.
      const poll = async (what: string, done: (s: StatusDocument) => boolean): Promise<StatusDocument> => {
        let last: StatusDocument | null = null;
        await until(
          async () => {
            await new Promise((r) => setTimeout(r, last === null ? 0 : 2_000));
            const r = await runCli(['status', '--json', '--data-dir', agentDir]);
            if (r.code !== 0) return false;
            last = JSON.parse(r.stdout) as StatusDocument;
            return done(last);
          },
          150_000,
          what,
        );
        return last as unknown as StatusDocument;
      };
      await poll('the coordinator\'s first account', (s) => s.link.state === 'connected' && s.earnings.updatedAt !== null);
      // Before the first epoch closes there is nothing to claim: exit 4, and no record is signed.
      const early = await runCli(['claim', '--json', '--data-dir', agentDir]);
      expect(early.code, early.stdout + early.stderr).toBe(4);
      expect(JSON.parse(early.stdout)).toMatchObject({ status: 'nothing' });

      const before = await poll('acknowledged records and a closed epoch with vested earnings', (s) => s.journal.watermark > 0 && s.earnings.epoch !== null && (s.earnings.vested ?? 0) > 0);
      expect(before.journal.recordsByKind['claim']).toBe(0);
      expect(before.node.id).toBe(nodeId);
      expect(before.link.state).toBe('connected');
      expect(before.earnings).toMatchObject({ epoch: 0, claimed: 0 });
      expect(before.earnings.claimable).toBe(before.earnings.vested);

      const claim = await runCli(['claim', '--json', '--data-dir', agentDir], { timeoutMs: 70_000 });
      expect(claim.code, claim.stderr + claim.stdout).toBe(0);
      const result = JSON.parse(claim.stdout) as ClaimResult;
      if (result.status !== 'paid') throw new Error(`claim not paid: ${claim.stdout}`);
      expect(result).toMatchObject({ node: nodeId, to: nodeId, epochs: [0, 0] });
      expect(result.amount).toBeGreaterThan(0);
      const coordinatorId = readKeyFile(join(dir, '.devnet', 'coordinator', 'coordinator.key')).id;
      expect(verifyCoordinatorMessage(result.receipt, coordinatorId)).toBe(true);

      const after = JSON.parse((await runCli(['status', '--json', '--data-dir', agentDir])).stdout) as StatusDocument;
      expect(after.earnings.lastReceipt).toEqual({ claimSeq: result.claimSeq, amount: result.amount, epochs: [0, 0] });
      expect(after.earnings.claimed).toBeGreaterThanOrEqual(result.amount);

      const stopped = await daemon.kill('SIGTERM');
      expect(stopped.code, daemon.output()).toBe(0);
      const verify = await runCli(['journal', 'verify', '--data-dir', agentDir, '--json']);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      const ledger = await runCli(['ledger', '--store', `sqlite:${join(dir, '.devnet', 'coordinator', 'ledger.db')}`, '--node', nodeId, '--json'], { cli: COORDINATOR_CLI });
      expect(ledger.code, ledger.stderr).toBe(0);
      const report = JSON.parse(ledger.stdout) as Extract<LedgerReport, { view: 'node' }>;
      expect(report.claims).toEqual([expect.objectContaining({ seq: result.claimSeq, paid: result.amount, code: null })]);
      expect(report.node.claimed).toBe(result.amount);
    } finally {
      await daemon.kill('SIGKILL');
    }
  }, 200_000);
});
