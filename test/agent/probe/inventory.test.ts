import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeInventory, type InventoryResult } from '../../../agent/probe/index.js';
import { fakeNvidiaSmiEnv, noNvidiaSmiEnv, nvidiaSmiFixture, withEnv, type FakeNvidiaSmiOptions } from '../../helpers/fake-nvidia-smi-env.js';
import { tempDir } from '../../helpers/tmp.js';

function probeWith(options: FakeNvidiaSmiOptions, timeoutMs?: number): Promise<InventoryResult> {
  return withEnv(fakeNvidiaSmiEnv(options), () => probeInventory(timeoutMs === undefined ? {} : { timeoutMs }));
}
const xml = (name: string): string => nvidiaSmiFixture(`xml/${name}`);

/** Values read from the fixture files by hand (draw: average_power_draw, else power_draw, else instant_power_draw). */
const EXPECTED: Record<string, { driver: string; cuda: string; gpus: { name: string; uuid: string; memMiB: number; drawMw: number | null; limitMw: number; pci: string }[] }> = {
  'a100-sxm4-80gb-mig-1of4_535.54.03_telegraf.xml': {
    driver: '535.54.03',
    cuda: '12.2',
    gpus: [{ name: 'NVIDIA A100-SXM4-80GB', uuid: 'GPU-513536b6-7d19-9063-b049-1e69664bb298', memMiB: 81920, drawMw: 67_030, limitMw: 500_000, pci: '00000000:01:00.0' }],
  },
  'a10g_515.105.01_telegraf.xml': {
    driver: '515.105.01',
    cuda: '11.7',
    gpus: [{ name: 'NVIDIA A10G', uuid: 'GPU-9a9a6c50-2a47-2f51-a902-b82c3b127e94', memMiB: 23028, drawMw: 25_580, limitMw: 300_000, pci: '00000000:00:1E.0' }],
  },
  'gt-1030_470.74_telegraf.xml': {
    driver: '470.74',
    cuda: '11.4',
    gpus: [{ name: 'NVIDIA GeForce GT 1030', uuid: 'GPU-857c6374-f681-cf3a-f99f-9063a87b8ac0', memMiB: 1998, drawMw: null, limitMw: 30_000, pci: '00000000:2D:00.0' }],
  },
  'gtx-1660-ti-graphics-device_418.43_telegraf.xml': {
    driver: '418.43',
    cuda: '10.1',
    gpus: [{ name: 'Graphics Device', uuid: 'GPU-304a277d-3545-63b8-3a36-dfde3c992989', memMiB: 5912, drawMw: 8_930, limitMw: 130_000, pci: '00000000:43:00.0' }],
  },
  'quadro-p2000_525.125.06_telegraf.xml': {
    driver: '525.125.06',
    cuda: '12.0',
    gpus: [{ name: 'Quadro P2000', uuid: 'GPU-396caaed-39ca-3199-2e68-717cdb786ec6', memMiB: 5120, drawMw: 4_610, limitMw: 75_000, pci: '00000000:17:00.0' }],
  },
  'rtx-2070-x2_590.44.01_telegraf.xml': {
    driver: '590.44.01',
    cuda: '13.1',
    gpus: [
      { name: 'NVIDIA GeForce RTX 2070', uuid: 'GPU-12345678-aaaa-bbbb-cccc-0123456789ab', memMiB: 8192, drawMw: 9_230, limitMw: 175_000, pci: '00000000:01:00.0' },
      { name: 'NVIDIA GeForce RTX 2070', uuid: 'GPU-12345678-aaaa-bbbb-cccc-0123456789cd', memMiB: 8192, drawMw: 11_820, limitMw: 175_000, pci: '00000000:02:00.0' },
    ],
  },
  'rtx-2080-x2_590.44.01_telegraf.xml': {
    driver: '590.44.01',
    cuda: '13.1',
    gpus: [
      { name: 'NVIDIA GeForce RTX 2080', uuid: 'GPU-12345678-aaaa-bbbb-cccc-0123456789ab', memMiB: 8192, drawMw: 1_000, limitMw: 215_000, pci: '00000000:01:00.0' },
      { name: 'NVIDIA GeForce RTX 2080', uuid: 'GPU-12345678-aaaa-bbbb-cccc-0123456789ab', memMiB: 8192, drawMw: 1_620, limitMw: 215_000, pci: '00000000:02:00.0' },
    ],
  },
  'rtx-3060_570.124.04_telegraf.xml': {
    driver: '570.124.04',
    cuda: '12.8',
    gpus: [{ name: 'NVIDIA GeForce RTX 3060', uuid: 'GPU-d6889ff6-2523-9142-ca3c-1ca3f396a625', memMiB: 12288, drawMw: 11_600, limitMw: 170_000, pci: '00000000:2D:00.0' }],
  },
  'rtx-3080_595.58.03_telegraf.xml': {
    driver: '595.58.03',
    cuda: '13.2',
    gpus: [{ name: 'NVIDIA GeForce RTX 3080', uuid: 'GPU-19d6d965-2acc-f646-00f8-4c76979aabb4', memMiB: 10240, drawMw: 139_620, limitMw: 320_000, pci: '00000000:0C:00.0' }],
  },
  'rtx-3090_525.147.05_telegraf.xml': {
    driver: '525.147.05',
    cuda: '12.0',
    gpus: [{ name: 'NVIDIA GeForce RTX 3090', uuid: 'GPU-12345678-aaaa-bbbb-cccc-0123456789ab', memMiB: 24576, drawMw: 27_230, limitMw: 200_000, pci: '00000000:00:10.0' }],
  },
  'rtx-3090_590.44.01_telegraf.xml': {
    driver: '590.44.01',
    cuda: '13.1',
    gpus: [{ name: 'NVIDIA GeForce RTX 3090', uuid: 'GPU-12345678-aaaa-bbbb-cccc-0123456789ab', memMiB: 24576, drawMw: 35_060, limitMw: 350_000, pci: '00000000:09:00.0' }],
  },
  'rtx-pro-6000-blackwell-maxq_590.44.01_telegraf.xml': {
    driver: '590.44.01',
    cuda: '13.1',
    gpus: [{ name: 'NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition', uuid: 'GPU-12345678-aaaa-bbbb-cccc-0123456789ab', memMiB: 97887, drawMw: 3_970, limitMw: 300_000, pci: '00000000:61:00.0' }],
  },
  'tesla-t4_515.105.01_telegraf.xml': {
    driver: '515.105.01',
    cuda: '11.7',
    gpus: [{ name: 'Tesla T4', uuid: 'GPU-d37e67a5-91dd-3774-a5cb-99096249601a', memMiB: 15360, drawMw: 26_780, limitMw: 70_000, pci: '00000000:00:1E.0' }],
  },
  'tesla-v100-pcie-32gb_460.39_datakit.xml': {
    driver: '460.39',
    cuda: '11.2',
    gpus: [{ name: 'Tesla V100-PCIE-32GB', uuid: 'GPU-e77ce5d8-8b63-c936-3c1b-839d45bcd0f2', memMiB: 32510, drawMw: 170_160, limitMw: 250_000, pci: '00000000:21:01.0' }],
  },
};

/** No number anywhere in an inventory may be NaN, and no value may be nvidia-smi's "N/A". */
function assertClean(value: unknown, path = 'inventory'): void {
  if (typeof value === 'number') expect(Number.isFinite(value), path).toBe(true);
  else if (typeof value === 'string') expect(/^\[?(n\/a|not supported)\]?$/i.test(value.trim()), `${path} = "${value}"`).toBe(false);
  else if (Array.isArray(value)) value.forEach((v, i) => assertClean(v, `${path}[${i}]`));
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) assertClean(v, `${path}.${k}`);
}

describe('probeInventory over every -q -x fixture', () => {
  it('has an expectation for every fixture file', () => {
    expect(readdirSync(nvidiaSmiFixture('xml')).filter((f) => f.endsWith('.xml')).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [file, want] of Object.entries(EXPECTED)) {
    it(file, async () => {
      const inv = await probeWith({ xml: xml(file) });
      expect(inv.driverVersion).toBe(want.driver);
      expect(inv.cudaVersion).toBe(want.cuda);
      expect(inv.gpus.map((g) => ({ name: g.name, uuid: g.uuid, memMiB: g.memoryTotalMiB, drawMw: g.power.drawMw, limitMw: g.power.limitMw, pci: g.pciBusId }))).toEqual(want.gpus);
      expect(inv.gpus.map((g) => g.index)).toEqual(want.gpus.map((_, i) => i));
      expect(inv.findings.filter((f) => f.severity === 'critical')).toEqual([]);
      assertClean(inv);
    });
  }
});

describe('schema details', () => {
  it('reads MIG mode and the four MIG devices of the A100 (v12)', async () => {
    const inv = await probeWith({ xml: xml('a100-sxm4-80gb-mig-1of4_535.54.03_telegraf.xml') });
    const g = inv.gpus[0]!;
    expect(g.mig.current).toBe(true);
    expect(g.mig.devices).toEqual([0, 1, 2, 3].map((i) => ({ index: i, gpuInstanceId: i + 3, computeInstanceId: 0, multiprocessors: 14, memoryTotalMiB: 19968, memoryUsedMiB: 12 })));
    expect(g.ecc).toEqual({ current: true, pending: true, volatile: { correctable: 0, uncorrectable: 0 }, aggregate: { correctable: 0, uncorrectable: 0 } });
    expect(g.pcie).toEqual({ genCurrent: 4, genMax: 4, widthCurrent: 16, widthMax: 16, replayCount: 0 });
    expect(g.clocks.maxSmMhz).toBe(1410);
    expect(g.vbios).toBe('92.00.36.00.02');
    expect(g.utilization.gpu).toBeNull();
    // attached_gpus says 4, the file keeps one <gpu>
    expect(inv.attachedGpus).toBe(4);
    expect(inv.findings.map((f) => f.code)).toEqual(['gpu-count-mismatch']);
  });

  it('reads clocks_throttle_reasons on driver 418 and clocks_event_reasons on v13', async () => {
    const old = await probeWith({ xml: xml('gtx-1660-ti-graphics-device_418.43_telegraf.xml') });
    expect(old.gpus[0]!.clockEventReasons.gpuIdle).toBe(true);
    expect(old.gpus[0]!.clockEventReasons.swPowerCap).toBe(false);
    expect(old.gpus[0]!.mig.current).toBeNull();
    const v13 = await probeWith({ xml: xml('rtx-3090_590.44.01_telegraf.xml') });
    expect(v13.gpus[0]!.clockEventReasons.swPowerCap).toBe(true);
    expect(v13.gpus[0]!.clockEventReasons.gpuIdle).toBe(false);
    expect(v13.gpus[0]!.power).toMatchObject({ drawMw: 35_060, instantMw: 35_150, limitMw: 350_000, defaultLimitMw: 350_000, minLimitMw: 100_000, maxLimitMw: 480_000 });
  });

  it('reads remapped rows where the GPU has them and null where it does not', async () => {
    const a10g = await probeWith({ xml: xml('a10g_515.105.01_telegraf.xml') });
    expect(a10g.gpus[0]!.remappedRows).toEqual({ correctable: 0, uncorrectable: 0, pending: false, failure: false });
    const t4 = await probeWith({ xml: xml('tesla-t4_515.105.01_telegraf.xml') });
    expect(t4.gpus[0]!.remappedRows).toBeNull();
    expect(t4.gpus[0]!.retiredPages).toEqual({ singleBit: 0, doubleBit: 0, pending: false });
  });

  it('flags the duplicated UUID in the dual 2080 capture instead of failing', async () => {
    const inv = await probeWith({ xml: xml('rtx-2080-x2_590.44.01_telegraf.xml') });
    expect(inv.gpus).toHaveLength(2);
    expect(inv.findings).toEqual([expect.objectContaining({ code: 'gpu-uuid-duplicate', gpu: 'GPU-12345678-aaaa-bbbb-cccc-0123456789ab' })]);
  });

  it('gives a null CUDA version when the driver does not report one', async () => {
    const dir = tempDir();
    const file = join(dir, 'no-cuda.xml');
    writeFileSync(file, readFileSync(xml('tesla-t4_515.105.01_telegraf.xml'), 'utf8').replace(/\s*<cuda_version>[^<]*<\/cuda_version>/, ''));
    const inv = await probeWith({ xml: file });
    expect(inv.cudaVersion).toBeNull();
    expect(inv.driverVersion).toBe('515.105.01');
    expect(inv.gpus).toHaveLength(1);
  });
});

describe('failures become findings, never exceptions', () => {
  const errorCases: { file: string; exitCode: number; code: string }[] = [
    { file: 'no-driver.txt', exitCode: 9, code: 'no-driver' },
    { file: 'no-nvml-library.txt', exitCode: 12, code: 'nvml-missing' },
    { file: 'driver-library-version-mismatch.txt', exitCode: 18, code: 'driver-mismatch' },
    { file: 'no-devices.txt', exitCode: 6, code: 'no-devices' },
    { file: 'gpu-lost.txt', exitCode: 15, code: 'gpu-lost' },
  ];
  for (const c of errorCases) {
    // nvidia-smi prints these on stdout; two are also tried on stderr, where a wrapper may put them.
    for (const stream of c.code === 'no-driver' || c.code === 'driver-mismatch' ? (['stdout', 'stderr'] as const) : (['stdout'] as const)) {
      it(`${c.file} on ${stream} → ${c.code}`, async () => {
        const inv = await probeWith({ error: nvidiaSmiFixture(`errors/${c.file}`), exitCode: c.exitCode, errorStream: stream });
        expect(inv.gpus).toEqual([]);
        expect(inv.driverVersion).toBeNull();
        expect(inv.findings.map((f) => f.code)).toEqual([c.code]);
        expect(inv.findings[0]!.severity).toBe('critical');
        expect(inv.findings[0]!.hint.length).toBeGreaterThan(20);
      });
    }
    it(`exit status ${c.exitCode} alone → ${c.code === 'no-devices' ? 'nvidia-smi-failed' : c.code}`, async () => {
      const inv = await probeWith({ exitCode: c.exitCode });
      // Exit 6 is any unsuccessful query, not specifically "no devices".
      expect(inv.findings.map((f) => f.code)).toEqual([c.code === 'no-devices' ? 'nvidia-smi-failed' : c.code]);
    });
  }

  it('names the lost GPU\'s PCI address', async () => {
    const inv = await probeWith({ error: nvidiaSmiFixture('errors/gpu-lost.txt'), exitCode: 15 });
    expect(inv.findings[0]!.message).toContain('0000:3B:00.0');
  });

  it('nvidia-smi not on PATH → nvidia-smi-missing (a warning: CPU-only machines are fine)', async () => {
    const inv = await withEnv(noNvidiaSmiEnv(), () => probeInventory());
    expect(inv.gpus).toEqual([]);
    expect(inv.findings).toEqual([expect.objectContaining({ code: 'nvidia-smi-missing', severity: 'warning', gpu: null })]);
  });

  it('an unknown failure keeps what nvidia-smi said', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'odd.txt'), 'Something unexpected happened in NVML\n');
    const inv = await probeWith({ error: join(dir, 'odd.txt'), exitCode: 255 });
    expect(inv.findings).toEqual([expect.objectContaining({ code: 'nvidia-smi-failed', severity: 'critical' })]);
    expect(inv.findings[0]!.message).toContain('exit status 255');
    expect(inv.findings[0]!.message).toContain('Something unexpected happened in NVML');
  });

  it('truncated XML → nvidia-smi-output-invalid', async () => {
    const dir = tempDir();
    const file = join(dir, 'truncated.xml');
    const full = readFileSync(xml('tesla-t4_515.105.01_telegraf.xml'), 'utf8');
    writeFileSync(file, full.slice(0, Math.floor(full.length / 2)));
    const inv = await probeWith({ xml: file });
    expect(inv.gpus).toEqual([]);
    expect(inv.findings).toEqual([expect.objectContaining({ code: 'nvidia-smi-output-invalid', severity: 'critical' })]);
  });

  it('XML that is not an nvidia-smi log, or a GPU without a UUID → nvidia-smi-output-invalid naming the problem', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'other.xml'), '<?xml version="1.0"?><something><else>1</else></something>');
    const other = await probeWith({ xml: join(dir, 'other.xml') });
    expect(other.findings).toEqual([expect.objectContaining({ code: 'nvidia-smi-output-invalid' })]);
    expect(other.findings[0]!.message).toContain('nvidia_smi_log');

    writeFileSync(join(dir, 'no-uuid.xml'), readFileSync(xml('tesla-t4_515.105.01_telegraf.xml'), 'utf8').replace(/<uuid>[^<]*<\/uuid>/, '<uuid>N/A</uuid>'));
    const noUuid = await probeWith({ xml: join(dir, 'no-uuid.xml') });
    expect(noUuid.findings).toEqual([expect.objectContaining({ code: 'nvidia-smi-output-invalid' })]);
    expect(noUuid.findings[0]!.message).toContain('UUID');
  });

  it('empty output → nvidia-smi-output-invalid', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'empty.xml'), '');
    const inv = await probeWith({ xml: join(dir, 'empty.xml') });
    expect(inv.findings).toEqual([expect.objectContaining({ code: 'nvidia-smi-output-invalid' })]);
  });

  it('a warning on stderr: the known one is named and the GPUs are still read', async () => {
    const inv = await probeWith({ xml: xml('tesla-t4_515.105.01_telegraf.xml'), stderr: readFileSync(nvidiaSmiFixture('errors/inforom-warning.txt'), 'utf8').trim() });
    expect(inv.findings.map((f) => f.code)).toEqual(['inforom-corrupted']);
    expect(inv.gpus.map((g) => g.name)).toEqual(['Tesla T4']);
  });

  it('an unknown warning on stderr becomes a warning finding, and the GPUs are still read', async () => {
    const inv = await probeWith({ xml: xml('tesla-t4_515.105.01_telegraf.xml'), stderr: 'WARNING: something unusual happened' });
    expect(inv.findings).toEqual([expect.objectContaining({ code: 'nvidia-smi-warning', severity: 'warning' })]);
    expect(inv.gpus).toHaveLength(1);
  });

  it('output over node-nvidia-smi\'s 1 MiB buffer (a large multi-GPU box) is read from our own run', async () => {
    const dir = tempDir();
    const big = readFileSync(xml('rtx-2070-x2_590.44.01_telegraf.xml'), 'utf8').replace('</nvidia_smi_log>', `<!-- ${'x'.repeat(1_200_000)} -->\n</nvidia_smi_log>`);
    writeFileSync(join(dir, 'big.xml'), big);
    const inv = await probeWith({ xml: join(dir, 'big.xml') });
    expect(inv.gpus).toHaveLength(2);
  });

  it('a hung nvidia-smi → nvidia-smi-timeout', async () => {
    const inv = await probeWith({ xml: xml('tesla-t4_515.105.01_telegraf.xml'), hangMs: 3_000 }, 300);
    expect(inv.findings).toEqual([expect.objectContaining({ code: 'nvidia-smi-timeout', severity: 'critical' })]);
  });
});
