/**
 * Health findings from an inventory, the latest telemetry samples, the kernel
 * log's XID errors and the telemetry child's state. Pure: the caller gathers
 * the inputs (the daemon on its own schedule, `capanode probe` once).
 */
import { CLOCK_EVENT_BITS } from './csv.js';
import type { TelemetryState } from './telemetry.js';
import type { ClockEventReasons, Finding, GpuInfo, Inventory, Sample, Severity, XidEvent, XidReport } from './types.js';

export interface FindingOptions {
  /** XID errors read from the kernel log (readXidErrors); omitted: not checked. */
  xid?: XidReport;
  /** The telemetry child's state; a child that keeps failing is a finding. */
  telemetry?: TelemetryState;
  /** A GPU at or above this utilisation (%) is under load: only then is a slow PCIe link a problem. Default 50. */
  loadUtilPercent?: number;
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

function reasonsFromMask(mask: number): ClockEventReasons {
  const on = (bit: number): boolean => (mask & bit) !== 0;
  return {
    gpuIdle: on(CLOCK_EVENT_BITS.gpuIdle),
    applicationsClocksSetting: on(CLOCK_EVENT_BITS.applicationsClocksSetting),
    swPowerCap: on(CLOCK_EVENT_BITS.swPowerCap),
    hwSlowdown: on(CLOCK_EVENT_BITS.hwSlowdown),
    hwThermalSlowdown: on(CLOCK_EVENT_BITS.hwThermalSlowdown),
    hwPowerBrakeSlowdown: on(CLOCK_EVENT_BITS.hwPowerBrakeSlowdown),
    syncBoost: on(CLOCK_EVENT_BITS.syncBoost),
    swThermalSlowdown: on(CLOCK_EVENT_BITS.swThermalSlowdown),
    displayClocksSetting: on(CLOCK_EVENT_BITS.displayClocksSetting),
  };
}

const watts = (mw: number): string => `${Math.round(mw / 1000)} W`;
const label = (g: GpuInfo): string => `GPU ${g.index} (${g.name})`;

function throttleFindings(g: GpuInfo, s: Sample | undefined): Finding[] {
  // The sample is fresher than the inventory when there is one.
  const r = s?.clockEventReasons !== null && s?.clockEventReasons !== undefined ? reasonsFromMask(s.clockEventReasons) : g.clockEventReasons;
  const temp = s?.tempC ?? g.temperature.gpuC;
  const out: Finding[] = [];
  if (r.hwThermalSlowdown === true || r.swThermalSlowdown === true) {
    const kind = r.hwThermalSlowdown === true ? 'hardware' : 'software';
    out.push({
      code: 'thermal-throttle',
      severity: 'warning',
      gpu: g.uuid,
      message: `${label(g)} is slowing its clocks to cool down (${kind} thermal slowdown${temp === null ? '' : `, ${temp} °C`}${g.temperature.slowdownC === null ? '' : `, slowdown at ${g.temperature.slowdownC} °C`})`,
      hint: 'check airflow, fans, dust and the room temperature; `nvidia-smi -q -d TEMPERATURE,PERFORMANCE` shows the limits',
    });
  }
  if (r.hwPowerBrakeSlowdown === true) {
    out.push({
      code: 'power-brake',
      severity: 'warning',
      gpu: g.uuid,
      message: `${label(g)} is held down by the external power brake signal`,
      hint: 'the system or the power supply asserted the brake: check the power supply\'s capacity, its cabling and the server\'s power capping',
    });
  }
  if (r.hwSlowdown === true && r.hwThermalSlowdown !== true && r.hwPowerBrakeSlowdown !== true) {
    out.push({
      code: 'hw-slowdown',
      severity: 'warning',
      gpu: g.uuid,
      message: `${label(g)} has hardware slowdown active (clocks cut by half or more)`,
      hint: 'hardware slowdown follows thermal or power-supply events: check cooling and the GPU\'s auxiliary power cables',
    });
  }
  if (r.swPowerCap === true) {
    const limit = g.power.limitMw;
    const def = g.power.defaultLimitMw;
    const lowered = limit !== null && def !== null && limit < def;
    out.push({
      code: 'power-cap',
      severity: lowered ? 'warning' : 'info',
      gpu: g.uuid,
      message: `${label(g)} is holding its clocks down to stay within its power limit${limit === null ? '' : ` of ${watts(limit)}`}${lowered ? ` (below its default ${watts(def)})` : ''}`,
      hint: lowered ? `raise the limit back with \`sudo nvidia-smi -i ${g.index} -pl ${Math.round(def / 1000)}\` if the power supply and cooling allow it` : 'normal at full load; if the GPU is idle, check for a low application clock or power setting',
    });
  }
  return out;
}

function pcieFindings(g: GpuInfo, s: Sample | undefined, loadUtil: number): Finding[] {
  const util = s?.util ?? g.utilization.gpu;
  // Idle GPUs lower their link generation (and sometimes width) to save power.
  if (util === null || util < loadUtil) return [];
  const link = {
    genCurrent: s?.pcie.genCurrent ?? g.pcie.genCurrent,
    genMax: s?.pcie.genMax ?? g.pcie.genMax,
    widthCurrent: s?.pcie.widthCurrent ?? g.pcie.widthCurrent,
    widthMax: s?.pcie.widthMax ?? g.pcie.widthMax,
  };
  const below: string[] = [];
  if (link.widthCurrent !== null && link.widthMax !== null && link.widthCurrent < link.widthMax) below.push(`x${link.widthCurrent} of x${link.widthMax}`);
  if (link.genCurrent !== null && link.genMax !== null && link.genCurrent < link.genMax) below.push(`gen ${link.genCurrent} of gen ${link.genMax}`);
  if (below.length === 0) return [];
  return [
    {
      code: 'pcie-link-degraded',
      severity: 'warning',
      gpu: g.uuid,
      message: `${label(g)} PCIe link runs below its maximum under load (${util}% busy): ${below.join(', ')}`,
      hint: 'reseat the card or its riser, check the slot\'s wiring (x16 slot wired x8?) and the BIOS PCIe settings; `nvidia-smi -q -d PCI` and `lspci -vv` show the negotiated link',
    },
  ];
}

function memoryFindings(g: GpuInfo): Finding[] {
  const out: Finding[] = [];
  const vol = g.ecc.volatile.uncorrectable;
  const agg = g.ecc.aggregate.uncorrectable;
  if ((vol ?? 0) > 0 || (agg ?? 0) > 0) {
    const recent = (vol ?? 0) > 0;
    out.push({
      code: 'ecc-uncorrectable',
      severity: recent ? 'critical' : 'warning',
      gpu: g.uuid,
      message: recent ? `${label(g)} had ${vol} uncorrectable ECC errors since the driver loaded` : `${label(g)} has ${agg} uncorrectable ECC errors in its lifetime record`,
      hint: recent
        ? 'results computed on this GPU may be wrong: drain it, reset it (`nvidia-smi -r -i N` or reboot) so bad memory is retired or remapped, and ask for an RMA if errors return'
        : 'watch for new errors; repeated ones mean failing memory (RMA)',
    });
  }
  if (g.retiredPages.pending === true) {
    out.push({
      code: 'retired-pages-pending',
      severity: 'warning',
      gpu: g.uuid,
      message: `${label(g)} has memory pages waiting to be retired (retired so far: ${g.retiredPages.singleBit ?? '?'} single-bit, ${g.retiredPages.doubleBit ?? '?'} double-bit)`,
      hint: 'reset the GPU or reboot so the retirement takes effect; until then the bad pages can still be used',
    });
  }
  if (g.remappedRows?.failure === true) {
    out.push({
      code: 'remapped-rows-failed',
      severity: 'critical',
      gpu: g.uuid,
      message: `${label(g)} failed to remap a memory row: it has no spare rows left`,
      hint: 'the GPU\'s memory is failing: take it out of service and ask for an RMA',
    });
  } else if (g.remappedRows?.pending === true) {
    out.push({
      code: 'remapped-rows-pending',
      severity: 'warning',
      gpu: g.uuid,
      message: `${label(g)} has memory row remappings pending (${g.remappedRows.uncorrectable ?? '?'} for uncorrectable, ${g.remappedRows.correctable ?? '?'} for correctable errors)`,
      hint: 'reset the GPU (`nvidia-smi -r -i N`, no processes running) or reboot to apply them',
    });
  }
  if (g.resetRequired === true) {
    out.push({
      code: 'reset-required',
      severity: 'warning',
      gpu: g.uuid,
      message: `${label(g)} reports that it needs a reset`,
      hint: 'stop its workloads and reset it (`nvidia-smi -r -i N`) or reboot',
    });
  }
  return out;
}

/** What each XID means for the operator: severity and what to do. Unlisted ones are warnings. */
const XIDS: Record<number, { severity: Severity; what: string; hint?: string }> = {
  13: { severity: 'info', what: 'graphics engine exception (usually an application bug)' },
  31: { severity: 'info', what: 'GPU memory page fault (usually an application bug)' },
  43: { severity: 'info', what: 'GPU stopped processing (usually an application bug)' },
  45: { severity: 'info', what: 'preemptive cleanup after a process ended' },
  48: { severity: 'critical', what: 'double-bit ECC error', hint: 'reset the GPU or reboot; repeated DBEs mean an RMA' },
  61: { severity: 'warning', what: 'internal micro-controller breakpoint/warning' },
  62: { severity: 'critical', what: 'internal micro-controller halt', hint: 'reset the GPU or reboot; update the driver if it recurs' },
  63: { severity: 'warning', what: 'ECC page retirement or row remapping recorded', hint: 'reset the GPU so it takes effect' },
  64: { severity: 'critical', what: 'ECC page retirement or row remapping failed', hint: 'the GPU\'s memory is failing: RMA' },
  74: { severity: 'critical', what: 'NVLink error', hint: 'check NVLink bridges/cabling; reset the GPUs; repeated errors need the vendor' },
  79: { severity: 'critical', what: 'GPU has fallen off the bus', hint: 'reboot; check seating, power cables, PCIe risers and cooling' },
  92: { severity: 'warning', what: 'high single-bit ECC error rate' },
  94: { severity: 'warning', what: 'contained ECC error', hint: 'the affected application was stopped; reset the GPU when convenient' },
  95: { severity: 'critical', what: 'uncontained ECC error', hint: 'reset the GPU or reboot; all work on it since the error is suspect' },
  119: { severity: 'critical', what: 'GSP firmware timeout', hint: 'reset the GPU or reboot; update the driver if it recurs' },
  120: { severity: 'critical', what: 'GSP firmware error', hint: 'reset the GPU or reboot; update the driver if it recurs' },
  140: { severity: 'critical', what: 'unrecovered ECC error', hint: 'reset the GPU or reboot' },
};

/** "00000000:3B:00.0" and "0000:3b:00" name the same device: compare domain (4 digits), bus and device. */
function pciKey(addr: string): string | null {
  const m = /([0-9a-f]{4,8}):([0-9a-f]{2}):([0-9a-f]{2})/i.exec(addr);
  if (m === null) return null;
  return `${(m[1] as string).slice(-4)}:${m[2] as string}:${m[3] as string}`.toLowerCase();
}

function xidFindings(report: XidReport, gpus: GpuInfo[]): Finding[] {
  if (report.source === null) {
    const why = report.unreadable.map((u) => `${u.source}: ${u.reason}`).join('; ');
    return [
      {
        code: 'kernel-log-unreadable',
        severity: 'info',
        gpu: null,
        message: `XID errors were not checked: no kernel log could be read${why === '' ? '' : ` (${why})`}`,
        hint: 'let the capanode user read the kernel log: add it to the systemd-journal (or adm) group, or set kernel.dmesg_restrict=0',
      },
    ];
  }
  const byPci = new Map(gpus.flatMap((g) => (g.pciBusId === null ? [] : [[pciKey(g.pciBusId), g] as const])));
  const groups = new Map<string, { ev: XidEvent; count: number }>();
  for (const ev of report.events) {
    const key = `${ev.pci}|${ev.xid}`;
    const seen = groups.get(key);
    if (seen === undefined) groups.set(key, { ev, count: 1 });
    else {
      seen.ev = ev;
      seen.count++;
    }
  }
  return [...groups.values()].map(({ ev, count }) => {
    const gpu = byPci.get(pciKey(ev.pci)) ?? null;
    const info = XIDS[ev.xid] ?? { severity: 'warning' as const, what: 'driver-reported GPU error' };
    const who = gpu === null ? `the GPU at PCI ${ev.pci}` : label(gpu);
    return {
      code: 'xid-error',
      severity: info.severity,
      gpu: gpu?.uuid ?? null,
      message: `Xid ${ev.xid} (${info.what}) on ${who}${count > 1 ? `, ${count} times` : ''} since boot; last: ${ev.detail === '' ? ev.line : ev.detail}`,
      hint: info.hint ?? `look up Xid ${ev.xid} in NVIDIA's XID error catalogue; if it repeats, reset the GPU or reboot`,
    };
  });
}

function telemetryFindings(t: TelemetryState): Finding[] {
  if (t.lastFailure === null || (t.running && t.samplesThisRun > 0)) return [];
  return [
    {
      code: 'telemetry-failed',
      severity: 'warning',
      gpu: null,
      message: `GPU telemetry (nvidia-smi --query-gpu) is not delivering samples: ${t.lastFailure.message}${t.restarts > 0 ? ` (restarted ${t.restarts} times)` : ''}`,
      hint: t.lastFailure.hint,
    },
  ];
}

/**
 * All findings, most severe first: the inventory's own (when given an
 * InventoryResult), then per GPU, then the kernel log's and telemetry's.
 * The same code for the same GPU appears once.
 */
export function collectFindings(inventory: Inventory & { findings?: Finding[] }, latestSamples: ReadonlyMap<string, Sample> = new Map(), options: FindingOptions = {}): Finding[] {
  const loadUtil = options.loadUtilPercent ?? 50;
  const all: Finding[] = [...(inventory.findings ?? [])];
  for (const g of inventory.gpus) {
    const s = latestSamples.get(g.uuid);
    all.push(...throttleFindings(g, s), ...pcieFindings(g, s, loadUtil), ...memoryFindings(g));
  }
  if (options.xid !== undefined) all.push(...xidFindings(options.xid, inventory.gpus));
  if (options.telemetry !== undefined) all.push(...telemetryFindings(options.telemetry));
  const seen = new Set<string>();
  const unique = all.filter((f) => {
    const key = `${f.code}|${f.gpu ?? ''}|${f.code === 'xid-error' ? f.message : ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.map((f, i) => ({ f, i })).sort((a, b) => SEVERITY_ORDER[a.f.severity] - SEVERITY_ORDER[b.f.severity] || a.i - b.i).map(({ f }) => f);
}
