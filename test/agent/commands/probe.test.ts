import { describe, expect, it } from 'vitest';
import type { ProbeReport } from '../../../agent/probe/index.js';
import { runCli } from '../../helpers/cli.js';
import { fakeNvidiaSmiEnv, noNvidiaSmiEnv, nvidiaSmiFixture } from '../../helpers/fake-nvidia-smi-env.js';
import { tempDir } from '../../helpers/tmp.js';

describe('capanode probe', () => {
  it('without nvidia-smi: exits 0 and says why there is no GPU', async () => {
    const dir = tempDir();
    const env = noNvidiaSmiEnv();
    const text = await runCli(['probe', '--data-dir', dir], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('GPUs: none. nvidia-smi is not installed or not on PATH');
    expect(text.stdout).toContain('[warning] nvidia-smi-missing');
    expect(text.stdout).toContain(`for ${dir}`);

    const json = await runCli(['probe', '--data-dir', dir, '--json'], { env });
    expect(json.code).toBe(0);
    const r = JSON.parse(json.stdout) as ProbeReport;
    expect(r).toMatchObject({ v: 1, gpus: [], driverVersion: null, noGpuReason: expect.stringContaining('not installed') as string });
    expect(r.findings.map((f) => f.code)).toContain('nvidia-smi-missing');
    expect(r.host.disk.path).toBe(dir);
    expect(r.host.cpu.cores).toBeGreaterThan(0);
  });

  it('lists both GPUs of a two-GPU machine (schema v13)', async () => {
    const env = fakeNvidiaSmiEnv({ xml: nvidiaSmiFixture('xml/rtx-2070-x2_590.44.01_telegraf.xml') });
    const json = await runCli(['probe', '--data-dir', tempDir(), '--json'], { env });
    expect(json.code).toBe(0);
    const r = JSON.parse(json.stdout) as ProbeReport;
    expect(r.driverVersion).toBe('590.44.01');
    expect(r.cudaVersion).toBe('13.1');
    expect(r.noGpuReason).toBeNull();
    expect(r.gpus.map((g) => [g.index, g.name, g.uuid, g.memoryTotalMiB])).toEqual([
      [0, 'NVIDIA GeForce RTX 2070', 'GPU-12345678-aaaa-bbbb-cccc-0123456789ab', 8192],
      [1, 'NVIDIA GeForce RTX 2070', 'GPU-12345678-aaaa-bbbb-cccc-0123456789cd', 8192],
    ]);
    const text = await runCli(['probe', '--data-dir', tempDir()], { env });
    expect(text.stdout).toContain('GPUs (2; driver 590.44.01, CUDA 13.1)');
    expect(text.stdout).toContain('GPU-12345678-aaaa-bbbb-cccc-0123456789cd');
    expect(text.stdout).toContain('9 / 175 W');
  });

  it('with the driver missing: exits 0, the finding carries the reason and the hint', async () => {
    const env = fakeNvidiaSmiEnv({ error: nvidiaSmiFixture('errors/no-driver.txt'), exitCode: 9 });
    const json = await runCli(['probe', '--data-dir', tempDir(), '--json'], { env });
    expect(json.code).toBe(0);
    const r = JSON.parse(json.stdout) as ProbeReport;
    expect(r.gpus).toEqual([]);
    expect(r.noGpuReason).toContain('driver is not loaded');
    expect(r.findings[0]).toMatchObject({ code: 'no-driver', severity: 'critical', gpu: null });
    expect(r.findings[0]!.hint).toContain('modprobe nvidia');
  });
});
