import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { collectFindings, parseXidLines, probeInventory, readXidErrors, type GpuInfo, type Inventory, type Sample } from '../../../agent/probe/index.js';
import { fakeNvidiaSmiEnv, nvidiaSmiFixture, withEnv } from '../../helpers/fake-nvidia-smi-env.js';

let a100: Inventory;
let rtx3090v13: Inventory;
const KERNEL_LOG = readFileSync(nvidiaSmiFixture('kernel-log/xid-dmesg.txt'), 'utf8');

beforeAll(async () => {
  const load = async (file: string): Promise<Inventory> => {
    const { findings: _f, ...inv } = await withEnv(fakeNvidiaSmiEnv({ xml: nvidiaSmiFixture(`xml/${file}`) }), () => probeInventory());
    return inv;
  };
  a100 = await load('a100-sxm4-80gb-mig-1of4_535.54.03_telegraf.xml');
  rtx3090v13 = await load('rtx-3090_590.44.01_telegraf.xml');
});

function withGpu(inv: Inventory, change: (g: GpuInfo) => void): Inventory {
  const copy = structuredClone(inv);
  change(copy.gpus[0]!);
  return copy;
}

function sampleOf(g: GpuInfo, v: Partial<Sample>): Map<string, Sample> {
  const s: Sample = {
    uuid: g.uuid,
    index: g.index,
    at: 1_000,
    util: 0,
    memUsedMiB: 0,
    memTotalMiB: g.memoryTotalMiB,
    tempC: 40,
    powerMw: 60_000,
    smClockMhz: 1400,
    clockEventReasons: 0,
    pcie: { genCurrent: 4, genMax: 4, widthCurrent: 16, widthMax: 16 },
    ...v,
  };
  return new Map([[g.uuid, s]]);
}

const codes = (fs: { code: string }[]): string[] => fs.map((f) => f.code);

describe('collectFindings', () => {
  it('a healthy idle A100 has no findings', () => {
    expect(collectFindings(a100)).toEqual([]);
    expect(collectFindings(a100, sampleOf(a100.gpus[0]!, {}))).toEqual([]);
  });

  it('keeps the inventory\'s own findings', () => {
    const f = collectFindings({ ...a100, findings: [{ code: 'gpu-count-mismatch', severity: 'warning', gpu: null, message: 'm', hint: 'h' }] });
    expect(codes(f)).toEqual(['gpu-count-mismatch']);
  });

  it('the v13 RTX 3090 capture holds its power cap at the default limit: info', () => {
    const f = collectFindings(rtx3090v13);
    expect(f).toEqual([expect.objectContaining({ code: 'power-cap', severity: 'info', gpu: 'GPU-12345678-aaaa-bbbb-cccc-0123456789ab' })]);
    expect(f[0]!.message).toContain('350 W');
  });

  it('a power limit lowered below the default is a warning with the command to restore it', () => {
    const inv = withGpu(rtx3090v13, (g) => (g.power.limitMw = 200_000));
    const [f] = collectFindings(inv);
    expect(f).toMatchObject({ code: 'power-cap', severity: 'warning' });
    expect(f!.hint).toContain('-pl 350');
  });

  it('thermal, power-brake and hardware slowdown from the sample\'s clock event bits', () => {
    const g = a100.gpus[0]!;
    const thermal = collectFindings(a100, sampleOf(g, { clockEventReasons: 0x40 | 0x8, tempC: 91 }));
    expect(codes(thermal)).toEqual(['thermal-throttle']);
    expect(thermal[0]!.message).toContain('91 °C');
    expect(thermal[0]!.message).toContain('slowdown at 89 °C');
    expect(codes(collectFindings(a100, sampleOf(g, { clockEventReasons: 0x20 })))).toEqual(['thermal-throttle']);
    expect(codes(collectFindings(a100, sampleOf(g, { clockEventReasons: 0x80 | 0x8 })))).toEqual(['power-brake']);
    expect(codes(collectFindings(a100, sampleOf(g, { clockEventReasons: 0x8 })))).toEqual(['hw-slowdown']);
  });

  it('thermal slowdown from the inventory when there is no sample', () => {
    const inv = withGpu(a100, (g) => (g.clockEventReasons.hwThermalSlowdown = true));
    expect(collectFindings(inv)).toEqual([expect.objectContaining({ code: 'thermal-throttle', severity: 'warning', gpu: a100.gpus[0]!.uuid })]);
  });

  it('a PCIe link below its max matters only under load', () => {
    const g = a100.gpus[0]!;
    const narrow = { genCurrent: 4, genMax: 4, widthCurrent: 8, widthMax: 16 };
    expect(collectFindings(a100, sampleOf(g, { util: 5, pcie: narrow }))).toEqual([]);
    const busy = collectFindings(a100, sampleOf(g, { util: 95, pcie: narrow }));
    expect(busy).toEqual([expect.objectContaining({ code: 'pcie-link-degraded', severity: 'warning' })]);
    expect(busy[0]!.message).toContain('x8 of x16');
    const slowGen = withGpu(a100, (x) => {
      x.utilization.gpu = 80;
      x.pcie.genCurrent = 3;
    });
    expect(collectFindings(slowGen)[0]!.message).toContain('gen 3 of gen 4');
    expect(collectFindings(a100, sampleOf(g, { util: 95, pcie: narrow }), { loadUtilPercent: 99 })).toEqual([]);
  });

  it('uncorrectable ECC errors: critical since driver load, warning in the lifetime record', () => {
    const recent = withGpu(a100, (g) => {
      g.ecc.volatile.uncorrectable = 2;
      g.ecc.aggregate.uncorrectable = 2;
    });
    expect(collectFindings(recent)).toEqual([expect.objectContaining({ code: 'ecc-uncorrectable', severity: 'critical' })]);
    const old = withGpu(a100, (g) => (g.ecc.aggregate.uncorrectable = 1));
    expect(collectFindings(old)).toEqual([expect.objectContaining({ code: 'ecc-uncorrectable', severity: 'warning' })]);
  });

  it('pending retired pages, pending or failed row remaps, reset required', () => {
    const inv = withGpu(a100, (g) => {
      g.retiredPages = { singleBit: 3, doubleBit: 1, pending: true };
      g.remappedRows = { correctable: 0, uncorrectable: 1, pending: true, failure: false };
      g.resetRequired = true;
    });
    expect(codes(collectFindings(inv))).toEqual(['retired-pages-pending', 'remapped-rows-pending', 'reset-required']);
    const failed = withGpu(a100, (g) => (g.remappedRows = { correctable: 0, uncorrectable: 9, pending: false, failure: true }));
    expect(collectFindings(failed)).toEqual([expect.objectContaining({ code: 'remapped-rows-failed', severity: 'critical' })]);
  });

  it('XID errors from the kernel log, matched to GPUs by PCI address, most severe first', () => {
    const f = collectFindings(a100, new Map(), { xid: { source: 'dmesg', events: parseXidLines(KERNEL_LOG), unreadable: [] } });
    expect(f.map((x) => [x.code, x.severity, x.gpu])).toEqual([
      ['xid-error', 'critical', a100.gpus[0]!.uuid],
      ['xid-error', 'critical', null],
      ['xid-error', 'info', a100.gpus[0]!.uuid],
    ]);
    expect(f[0]!.message).toContain('Xid 48');
    expect(f[1]!.message).toContain('Xid 79');
    expect(f[1]!.message).toContain('0000:3b:00');
    expect(f[2]!.message).toContain('2 times');
  });

  it('says when the kernel log could not be read', () => {
    const f = collectFindings(a100, new Map(), { xid: { source: null, events: [], unreadable: [{ source: 'dmesg', reason: 'Operation not permitted' }] } });
    expect(f).toEqual([expect.objectContaining({ code: 'kernel-log-unreadable', severity: 'info' })]);
    expect(f[0]!.message).toContain('dmesg: Operation not permitted');
  });

  it('the same code for the same GPU appears once', () => {
    const dup = { code: 'no-driver', severity: 'critical' as const, gpu: null, message: 'm', hint: 'h' };
    expect(collectFindings({ ...a100, findings: [dup, dup] })).toHaveLength(1);
  });
});

describe('readXidErrors', () => {
  it('reads the first source that answers and lists why the others did not', async () => {
    const report = await readXidErrors({
      sources: [
        { name: 'journalctl -k', read: () => Promise.reject(new Error('No journal files were opened due to insufficient permissions.')) },
        { name: 'dmesg', read: () => Promise.resolve('') },
        { name: '/dev/kmsg', read: () => Promise.resolve(KERNEL_LOG) },
      ],
    });
    expect(report.source).toBe('/dev/kmsg');
    expect(report.unreadable.map((u) => u.source)).toEqual(['journalctl -k', 'dmesg']);
    expect(report.events.map((e) => [e.pci, e.xid])).toEqual([
      ['0000:01:00', 13],
      ['0000:01:00', 13],
      ['0000:01:00', 48],
      ['0000:3b:00', 79],
    ]);
    expect(report.events[3]!.detail).toBe('pid=0, GPU has fallen off the bus.');
  });

  it('reports no source when none can be read', async () => {
    const report = await readXidErrors({ sources: [{ name: 'dmesg', read: () => Promise.reject(new Error('dmesg: read kernel buffer failed: Operation not permitted')) }] });
    expect(report).toEqual({ source: null, events: [], unreadable: [{ source: 'dmesg', reason: 'dmesg: read kernel buffer failed: Operation not permitted' }] });
  });

  it('never throws on this machine, whatever it may read', async () => {
    const report = await readXidErrors();
    expect(report.source === null ? report.unreadable.length : 1).toBeGreaterThan(0);
  });
});
