import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { setupAgent, until } from '../helpers/processes.js';
import { tempDir } from '../helpers/tmp.js';

// No coordinator is needed to start: the agent journals and retries the link.
const NOWHERE = { url: 'ws://127.0.0.1:9', id: 'c0'.repeat(32) };

describe('capanode start', () => {
  it('runs, answers status over the control socket, refuses a second start on the same data dir, and drains on SIGTERM', async () => {
    const agent = await setupAgent(tempDir('capanode-start-'), NOWHERE);
    const first = agent.start();
    try {
      await until(async () => (await runCli(['status', '--data-dir', agent.dir, '--json'])).code === 0, 15_000, 'the daemon to answer status');
      const status = JSON.parse((await runCli(['status', '--data-dir', agent.dir, '--json'])).stdout) as { source: string; node: { id: string; pid: number }; journal: { headSeq: number | null } };
      expect(status.source).toBe('daemon');
      expect(status.node.id).toBe(agent.nodeId);
      const second = await runCli(['start', '--data-dir', agent.dir]);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/journal-locked/);
      expect(second.stderr).toContain(String(status.node.pid));
    } finally {
      const exit = await first.kill('SIGTERM');
      expect(exit.code, first.output()).toBe(0);
    }
    // Not running: status says so from the journal, and exits 3.
    const after = await runCli(['status', '--data-dir', agent.dir, '--json']);
    expect(after.code).toBe(3);
    expect(JSON.parse(after.stdout)).toMatchObject({ source: 'journal', node: { id: agent.nodeId } });
    const human = await runCli(['status', '--data-dir', agent.dir]);
    expect(human.code).toBe(3);
    expect(human.stdout).toContain('NOT RUNNING');
    const verify = await runCli(['journal', 'verify', '--data-dir', agent.dir]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 60_000);

  it('refuses a group-readable key', async () => {
    const agent = await setupAgent(tempDir('capanode-start-'), NOWHERE);
    chmodSync(join(agent.dir, 'node.key'), 0o640);
    const r = await runCli(['start', '--data-dir', agent.dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('key-permissions');
    expect(r.stderr).toContain('chmod 600');
  });

  it('names a typo\'d key and a bad value in the config, with the file', async () => {
    const agent = await setupAgent(tempDir('capanode-start-'), NOWHERE);
    const file = join(agent.dir, 'config.json');
    const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...config, heartbeatIntervalSec: 30, metricsListen: 'everywhere' }));
    const r = await runCli(['start', '--data-dir', agent.dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}: unknown key "heartbeatIntervalSec"`);
    expect(r.stderr).toContain(`${file}: key "metricsListen"`);
  });
});
