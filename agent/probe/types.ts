/**
 * What the probe reports. Every measurement is an integer in a stated unit
 * (MiB, MHz, mW, °C, %), so it can go into a signed record unchanged
 * (DESIGN §4); a value nvidia-smi does not know ("N/A", "[Not Supported]",
 * a missing element) is null, never NaN or a string.
 */

export type Severity = 'info' | 'warning' | 'critical';

/** One health finding; the shape of FindingStatus in agent/status/document.ts. */
export interface Finding {
  /** Stable code, listed in docs/PROBE.md. */
  code: string;
  severity: Severity;
  /** The GPU's UUID, or null for the host, the driver or all GPUs. */
  gpu: string | null;
  message: string;
  /** What the operator can do about it. */
  hint: string;
}

/** Clock event ("throttle") reasons; null where the driver does not report one. */
export interface ClockEventReasons {
  gpuIdle: boolean | null;
  applicationsClocksSetting: boolean | null;
  swPowerCap: boolean | null;
  hwSlowdown: boolean | null;
  hwThermalSlowdown: boolean | null;
  hwPowerBrakeSlowdown: boolean | null;
  syncBoost: boolean | null;
  swThermalSlowdown: boolean | null;
  displayClocksSetting: boolean | null;
}

export interface MigDevice {
  index: number | null;
  gpuInstanceId: number | null;
  computeInstanceId: number | null;
  multiprocessors: number | null;
  memoryTotalMiB: number | null;
  memoryUsedMiB: number | null;
}

export interface PcieLink {
  genCurrent: number | null;
  /** The highest generation this GPU and this slot support together. */
  genMax: number | null;
  widthCurrent: number | null;
  widthMax: number | null;
  replayCount: number | null;
}

export interface EccCounts {
  correctable: number | null;
  uncorrectable: number | null;
}

export interface GpuInfo {
  /** Position in nvidia-smi's output: the index `nvidia-smi -i` and CUDA_VISIBLE_DEVICES (PCI order) use. */
  index: number;
  uuid: string;
  name: string;
  brand: string | null;
  architecture: string | null;
  serial: string | null;
  pciBusId: string | null;
  vbios: string | null;
  memoryTotalMiB: number | null;
  memoryUsedMiB: number | null;
  computeMode: string | null;
  persistenceMode: boolean | null;
  performanceState: string | null;
  utilization: { gpu: number | null; memory: number | null };
  temperature: { gpuC: number | null; memoryC: number | null; slowdownC: number | null; shutdownC: number | null };
  mig: { current: boolean | null; pending: boolean | null; devices: MigDevice[] };
  power: {
    /** Average draw where the driver reports it (schema v13), else the one `power_draw` value. */
    drawMw: number | null;
    instantMw: number | null;
    limitMw: number | null;
    defaultLimitMw: number | null;
    minLimitMw: number | null;
    maxLimitMw: number | null;
  };
  clocks: {
    smMhz: number | null;
    graphicsMhz: number | null;
    memoryMhz: number | null;
    maxSmMhz: number | null;
    maxGraphicsMhz: number | null;
    maxMemoryMhz: number | null;
  };
  pcie: PcieLink;
  ecc: { current: boolean | null; pending: boolean | null; volatile: EccCounts; aggregate: EccCounts };
  retiredPages: { singleBit: number | null; doubleBit: number | null; pending: boolean | null };
  /** Null on GPUs without row remapping (before Ampere). */
  remappedRows: { correctable: number | null; uncorrectable: number | null; pending: boolean | null; failure: boolean | null } | null;
  clockEventReasons: ClockEventReasons;
  resetRequired: boolean | null;
}

export interface Inventory {
  gpus: GpuInfo[];
  driverVersion: string | null;
  cudaVersion: string | null;
  /** `attached_gpus` as nvidia-smi reports it; may exceed gpus.length when it could not describe one. */
  attachedGpus: number | null;
}

export interface InventoryResult extends Inventory {
  findings: Finding[];
}

/** One telemetry reading of one GPU. */
export interface Sample {
  uuid: string;
  index: number | null;
  /** Milliseconds since the epoch, from the agent's clock when the line arrived. */
  at: number;
  util: number | null;
  memUsedMiB: number | null;
  memTotalMiB: number | null;
  tempC: number | null;
  powerMw: number | null;
  smClockMhz: number | null;
  /** nvidia-smi's `clocks_event_reasons.active` bit mask (NVML nvmlClocksEventReason* bits). */
  clockEventReasons: number | null;
  pcie: { genCurrent: number | null; genMax: number | null; widthCurrent: number | null; widthMax: number | null };
}

/** A window's figures for one GPU, as the uptime attestation body carries them (DESIGN §4). */
export interface GpuWindow {
  uuid: string;
  /** Mean GPU utilisation, %. */
  util: number | null;
  memUsedMiB: number | null;
  /** Highest temperature seen in the window. */
  tempC: number | null;
  powerMw: number | null;
  smClockMhz: number | null;
}

export interface HostFacts {
  hostname: string;
  cpu: { model: string | null; cores: number | null; physicalCores: number | null };
  memory: { totalMiB: number | null; availableMiB: number | null };
  disk: { path: string; freeMiB: number | null; totalMiB: number | null };
  os: { platform: string; distro: string | null; release: string | null; kernel: string | null; arch: string };
  virtualization: { virtual: boolean | null; host: string | null };
  uptimeS: number;
  load: { load1Milli: number; load5Milli: number; load15Milli: number };
}

export interface XidEvent {
  /** The PCI address as the kernel prints it (e.g. "0000:3b:00"). */
  pci: string;
  xid: number;
  detail: string;
  /** The kernel log line, trimmed. */
  line: string;
}

export interface XidReport {
  /** Which log was read, or null when none could be. */
  source: string | null;
  events: XidEvent[];
  /** Why each log that was tried could not be read. */
  unreadable: { source: string; reason: string }[];
}
