import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerJobsCommand } from '../../../coordinator/commands/jobs.js';
import { openStore, type JobRow } from '../../../coordinator/store/index.js';
import { runInProcess } from '../../helpers/in-process-cli.js';
import { tempDir } from '../../helpers/tmp.js';

const jobs = (argv: string[]) => runInProcess(registerJobsCommand, ['jobs', ...argv]);

describe('capanode-coordinator jobs', () => {
  it('submits, lists and cancels jobs in the store', async () => {
    const store = `sqlite:${join(tempDir(), 'ledger.db')}`;
    const submitted = await jobs(['submit', '--store', store, '--workload', 'pot', '--id', 'p1', '--param', `seed=${'ab'.repeat(32)}`, '--param', 'n=64', '--param', 'reps=2', '--fee', '250', '--deadline', '2m', '--json']);
    expect(submitted.exitCode).toBe(0);
    expect(JSON.parse(submitted.stdout)).toEqual({ id: 'p1', replicas: ['p1'], state: 'queued' });
    const exec = await jobs(['submit', '--store', store, '--workload', 'exec', '--id', 'e1', '--param', 'command=/opt/jobs/train', '--redundancy', '2', '--', '--epochs', '3']);
    expect(exec.stdout).toBe('queued e1.r1, e1.r2\n');

    const listed = await jobs(['list', '--store', store, '--json']);
    const rows = JSON.parse(listed.stdout) as JobRow[];
    expect(rows.map((r) => r.id).sort()).toEqual(['e1.r1', 'e1.r2', 'p1']);
    const p1 = rows.find((r) => r.id === 'p1');
    expect(p1).toMatchObject({ workload: 'pot', state: 'queued', fee: 250, deadlineMs: 120_000, params: `{"n":64,"reps":2,"seed":"${'ab'.repeat(32)}"}`, audit: 'none' });
    expect(JSON.parse(rows.find((r) => r.id === 'e1.r1')!.params)).toEqual({ args: ['--epochs', '3'], command: '/opt/jobs/train' });
    expect(rows.find((r) => r.id === 'e1.r2')?.audit).toBe('pending');

    // A queued job is withdrawn at once; a running one gets a cancel request.
    const s = openStore(store);
    expect(await s.transitionJob('e1.r1', ['queued'], { state: 'running', node: 'a'.repeat(64), assignedAt: 1 })).toBe(true);
    await s.close();
    const cancelled = await jobs(['cancel', 'e1', '--store', store, '--reason', 'customer withdrew']);
    expect(cancelled.stdout).toBe('e1.r1: cancel requested\ne1.r2: cancelled\n');
    const text = await jobs(['list', '--store', store]);
    expect(text.stdout).toMatch(/^e1\.r1 {2}exec {2}running \(customer withdrew\) {2}node aaaaaaaaaaaaaaaa .* cancel requested$/m);
  });

  it('refuses bad input with the reason', async () => {
    const store = `sqlite:${join(tempDir(), 'ledger.db')}`;
    const bad = await jobs(['submit', '--store', store, '--workload', 'pot', '--param', 'seed=xyz', '--param', 'n=64', '--param', 'reps=1', '--json']);
    expect(bad.exitCode).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, error: { code: 'bad-input', message: expect.stringContaining('params.seed') as unknown } });
    const kind = await jobs(['submit', '--store', store, '--workload', 'shell']);
    expect(kind.exitCode).toBe(1);
    expect(kind.stderr).toContain('workload');
    const dup = await jobs(['submit', '--store', store, '--workload', 'bench', '--id', 'b1']);
    expect(dup.exitCode).toBe(0);
    const again = await jobs(['submit', '--store', store, '--workload', 'bench', '--id', 'b1']);
    expect(again.stderr).toContain('already exists');
    const missing = await jobs(['cancel', 'nope', '--store', store]);
    expect(missing.stderr).toContain('no job nope');
  });
});
