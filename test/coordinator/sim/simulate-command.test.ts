/** `capanode-coordinator simulate`, driven through commander in-process. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { registerSimulateCommand } from '../../../coordinator/commands/simulate.js';
import type { SimReport } from '../../../coordinator/sim/index.js';
import { runInProcess } from '../../helpers/in-process-cli.js';
import { tempDir } from '../../helpers/tmp.js';

function run(args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  return runInProcess(registerSimulateCommand, ['simulate', ...args]);
}

afterEach(() => {
  process.exitCode = 0;
});

describe('capanode-coordinator simulate', () => {
  it('--json prints the report; --out writes the HTML', async () => {
    const dir = tempDir();
    const out = join(dir, 'report.html');
    const r = await run(['--nodes', '40', '--epochs', '6', '--seed', '3', '--mix', 'honest=0.5,lazy=0.25,whale=0.25', '--json', '--out', out]);
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(r.stdout) as SimReport;
    expect(report.options).toMatchObject({ nodes: 40, epochs: 6, seed: 3, schedule: 'windowed' });
    expect(report.strategies.map((s) => s.strategy)).toEqual(['honest', 'lazy', 'whale']);
    expect(report.conservationError).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('<svg');
  });

  it('prints a table without --json', async () => {
    const r = await run(['--nodes', '30', '--epochs', '4', '--mix', 'honest=1,replay=1']);
    expect(r.stdout).toMatch(/STRATEGY\s+OPERATORS/);
    expect(r.stdout).toContain('conservation error 0 micro-credits');
  });

  it('reads reward parameter overrides from a file, and refuses bad ones', async () => {
    const dir = tempDir();
    const good = join(dir, 'p.json');
    writeFileSync(good, JSON.stringify({ emissionPerEpoch: 5_000_000 }));
    const r = await run(['--nodes', '20', '--epochs', '3', '--params', good, '--json']);
    const report = JSON.parse(r.stdout) as SimReport;
    expect(report.params.emissionPerEpoch).toBe(5_000_000);
    expect(report.params.stakePerGflops).toBe(100);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ workShareCapPpm: 500_000 }));
    const e = await run(['--nodes', '20', '--epochs', '3', '--params', bad]);
    expect(e.exitCode).toBe(1);
    expect(e.stderr).toContain('reward-params-invalid');
  });

  it('names a bad option and exits 1, writing nothing', async () => {
    const dir = tempDir();
    for (const args of [['--nodes', 'many'], ['--mix', 'honest=1,bogus=1'], ['--challenges', 'sometimes'], ['--epochs', '0']]) {
      const r = await run([...args, '--out', join(dir, 'x.html')]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain('sim-options-invalid');
    }
    expect(existsSync(join(dir, 'x.html'))).toBe(false);
  });
});
