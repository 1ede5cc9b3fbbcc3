/**
 * GPU and host probe: nvidia-smi inventory (node-nvidia-smi), live telemetry
 * from one long-running nvidia-smi, host facts (systeminformation), XID errors
 * from the kernel log, and the health findings drawn from them.
 */
export { probeInventory, type InventoryOptions } from './inventory.js';
export { probeHost } from './host.js';
export { probeReport, type ProbeReport, type ProbeReportOptions } from './report.js';
export { Telemetry, createTelemetry, type TelemetryOptions, type TelemetryState, type TelemetryTimers } from './telemetry.js';
export { SampleHistory, type HistoryOptions } from './history.js';
export { collectFindings, type FindingOptions } from './findings.js';
export { readXidErrors, parseXidLines, defaultKernelLogSources, type KernelLogSource } from './xid.js';
export { parseSmiLog } from './xml.js';
export { parseTelemetryLine, QUERY_FIELDS, LEGACY_QUERY_FIELDS } from './csv.js';
export { diagnoseSmiFailure, type SmiRun } from './diagnose.js';
export type {
  ClockEventReasons,
  EccCounts,
  Finding,
  GpuInfo,
  GpuWindow,
  HostFacts,
  Inventory,
  InventoryResult,
  MigDevice,
  PcieLink,
  Sample,
  Severity,
  XidEvent,
  XidReport,
} from './types.js';
