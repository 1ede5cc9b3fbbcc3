/**
 * Telemetry lines: `nvidia-smi --query-gpu=<FIELDS> --format=csv,noheader,nounits`
 * prints one line per GPU per interval. `[N/A]` and `[Not Supported]` are
 * unknown values (null).
 */
import type { Sample } from './types.js';
import { bitmask, intIn, milliwatts } from './values.js';

const COMMON = ['index', 'uuid', 'utilization.gpu', 'memory.used', 'memory.total', 'temperature.gpu', 'power.draw', 'clocks.current.sm'] as const;
const LINK = ['pcie.link.gen.current', 'pcie.link.gen.max', 'pcie.link.width.current', 'pcie.link.width.max'] as const;

/** Drivers from 530 on: throttle reasons were renamed clock event reasons. */
export const QUERY_FIELDS = [...COMMON, 'clocks_event_reasons.active', ...LINK] as const;
/** Older drivers know only the throttle-reason name (and newer ones still accept it, deprecated). */
export const LEGACY_QUERY_FIELDS = [...COMMON, 'clocks_throttle_reasons.active', ...LINK] as const;

export function queryArgs(fields: readonly string[], intervalMs: number): string[] {
  return [`--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits', '-lms', String(intervalMs)];
}

const UUID = /^GPU-[0-9A-Za-z-]{1,96}$/;

export type LineResult = { ok: true; sample: Sample } | { ok: false; reason: string };

/** One CSV line (fields in QUERY_FIELDS order, either variant) as a Sample stamped `at`. */
export function parseTelemetryLine(line: string, at: number): LineResult {
  const cols = line.split(',').map((c) => c.trim());
  if (cols.length !== QUERY_FIELDS.length) return { ok: false, reason: `expected ${QUERY_FIELDS.length} comma-separated values, got ${cols.length}` };
  const [index, uuid, util, memUsed, memTotal, temp, power, sm, reasons, genCur, genMax, widthCur, widthMax] = cols as [string, string, string, string, string, string, string, string, string, string, string, string, string];
  if (!UUID.test(uuid)) return { ok: false, reason: `"${uuid.slice(0, 60)}" is not a GPU UUID` };
  return {
    ok: true,
    sample: {
      uuid,
      index: intIn(index),
      at,
      util: intIn(util),
      memUsedMiB: intIn(memUsed),
      memTotalMiB: intIn(memTotal),
      tempC: intIn(temp),
      powerMw: milliwatts(power),
      smClockMhz: intIn(sm),
      clockEventReasons: bitmask(reasons),
      pcie: { genCurrent: intIn(genCur), genMax: intIn(genMax), widthCurrent: intIn(widthCur), widthMax: intIn(widthMax) },
    },
  };
}

/** NVML clock event reason bits (nvml.h nvmlClocksEventReason*). */
export const CLOCK_EVENT_BITS = {
  gpuIdle: 0x1,
  applicationsClocksSetting: 0x2,
  swPowerCap: 0x4,
  hwSlowdown: 0x8,
  syncBoost: 0x10,
  swThermalSlowdown: 0x20,
  hwThermalSlowdown: 0x40,
  hwPowerBrakeSlowdown: 0x80,
  displayClocksSetting: 0x100,
} as const;
