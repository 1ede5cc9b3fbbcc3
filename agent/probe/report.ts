/**
 * The whole probe at once, as `capanode probe --json` prints it. The shape is
 * a stable interface documented in docs/PROBE.md: fields are added, never
 * renamed; `v` changes only if one ever has to be.
 */
import { collectFindings } from './findings.js';
import { probeHost } from './host.js';
import { probeInventory, type InventoryOptions } from './inventory.js';
import type { Finding, GpuInfo, HostFacts, XidReport } from './types.js';
import { readXidErrors, type KernelLogSource } from './xid.js';

export interface ProbeReport {
  v: 1;
  /** When the probe ran, ms since the epoch. */
  time: number;
  driverVersion: string | null;
  cudaVersion: string | null;
  attachedGpus: number | null;
  gpus: GpuInfo[];
  /** Why no GPU is listed (the most severe finding's message); null when there are GPUs. */
  noGpuReason: string | null;
  host: HostFacts;
  kernelLog: { source: string | null; xidEvents: number; unreadable: XidReport['unreadable'] };
  findings: Finding[];
}

export interface ProbeReportOptions extends InventoryOptions {
  kernelLogSources?: KernelLogSource[];
  now?: () => number;
}

export async function probeReport(dataDir: string, options: ProbeReportOptions = {}): Promise<ProbeReport> {
  const time = (options.now ?? Date.now)();
  const [inventory, host, xid] = await Promise.all([
    probeInventory(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    probeHost(dataDir),
    readXidErrors(options.kernelLogSources === undefined ? {} : { sources: options.kernelLogSources }),
  ]);
  const findings = collectFindings(inventory, new Map(), { xid });
  return {
    v: 1,
    time,
    driverVersion: inventory.driverVersion,
    cudaVersion: inventory.cudaVersion,
    attachedGpus: inventory.attachedGpus,
    gpus: inventory.gpus,
    noGpuReason: inventory.gpus.length > 0 ? null : (inventory.findings[0]?.message ?? 'nvidia-smi lists no GPU'),
    host,
    kernelLog: { source: xid.source, xidEvents: xid.events.length, unreadable: xid.unreadable },
    findings,
  };
}
