import { describe, expect, it } from 'vitest';
import { runLocalBench } from '../../../agent/bench/local.js';
import { nativeBackend, type BenchBackend } from '../../../agent/bench/backend.js';
import { CapanodeError } from '../../../common/errors.js';
import { withFakeCuda } from '../../helpers/fake-libcuda.js';

describe('runLocalBench', () => {
  it('benchmarks every GPU with its spec and share of it', async () => {
    const report = await withFakeCuda('ok', () => runLocalBench({ quick: true }));
    expect(report.gpu).toEqual({ available: true, driverVersion: 12040, count: 1 });
    const [gpu] = report.devices;
    expect(gpu).toMatchObject({ device: 'GPU-5f5fa2a3-6d4b-2b1c-9a4c-2a3bb5a0e8e1', kind: 'gpu', ordinal: 0, name: 'NVIDIA H100 80GB HBM3', spec: { model: 'H100 SXM' } });
    for (const v of Object.values(gpu!.local)) expect(Number.isInteger(v)).toBe(true);
    expect(gpu!.percentOfSpec?.memBw).toBeCloseTo((gpu!.local.memBwMBps / 3_350_000) * 100, 0);
    expect(gpu!.method).toMatchObject({ computeCapability: '9.0', tensorKernel: 'mma.sync', pciBusId: '00000000:3B:00.0' });
  });

  it('benchmarks the CPU, saying why, when no GPU can be used', async () => {
    const report = await withFakeCuda('no-device', () => runLocalBench({ quick: true }));
    expect(report.devices.map((d) => d.device)).toEqual(['cpu']);
    const cpu = report.devices[0]!;
    expect(cpu.local.memBwMBps).toBeGreaterThan(0);
    expect(cpu.local.fp32Gflops).toBeGreaterThan(0);
    expect(cpu.local).toMatchObject({ tensorGflops: null, h2dMBps: null, d2hMBps: null });
    expect(report.gpu).toMatchObject({ available: false, reason: 'no-device' });
  });

  it('fails, with the driver\'s reason, when the GPU asked for cannot be used', async () => {
    await expect(withFakeCuda('no-device', () => runLocalBench({ device: 0, quick: true }))).rejects.toMatchObject({ code: 'native-unavailable', details: { reason: 'no-device' } });
    await expect(withFakeCuda('ok', () => runLocalBench({ device: 4, quick: true }))).rejects.toMatchObject({ details: { reason: 'bad-device' } });
  });

  it('reports a missing addon with its possible solutions', async () => {
    const missing: BenchBackend = {
      ...nativeBackend,
      loadError: () => new CapanodeError('native-unavailable', 'addon not built', { hint: 'Possible solutions: ...', details: { reason: 'addon-missing' } }),
    };
    await expect(runLocalBench({ device: 'cpu' }, missing)).rejects.toMatchObject({ code: 'native-unavailable', details: { reason: 'addon-missing' } });
  });
});
