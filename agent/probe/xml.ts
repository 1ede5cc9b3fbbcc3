/**
 * Normalises what node-nvidia-smi returns for `nvidia-smi -q -x` (the XML
 * turned into objects by xml2js with `explicitArray: false`: one child is an
 * object, several are an array, a leaf is its trimmed text) into typed
 * GpuInfo values, across the schemas drivers 418 to 595 write (DTD v8 to v13).
 * The document's frame is checked with zod; the leaves are read leniently,
 * since any of them can be "N/A" or absent on some GPU, driver or OS.
 */
import { z } from 'zod';
import { CapanodeError } from '../../common/errors.js';
import type { ClockEventReasons, EccCounts, GpuInfo, Inventory, MigDevice } from './types.js';
import { CELSIUS, flag, intIn, known, MHZ, MIB, milliwatts, PERCENT, WIDTH } from './values.js';

type Node = Record<string, unknown>;

const NodeSchema = z.record(z.string(), z.unknown());
const GpuNodeSchema = NodeSchema.refine((g) => typeof g['uuid'] === 'string' && typeof g['product_name'] === 'string', {
  message: 'a <gpu> element has no <uuid> or <product_name>',
});
const LogSchema = z.object({
  nvidia_smi_log: z.object({
    driver_version: z.string().optional(),
    cuda_version: z.string().optional(),
    attached_gpus: z.string().optional(),
    gpu: z.union([GpuNodeSchema, z.array(GpuNodeSchema)]).optional(),
  }),
});

const UUID = /^GPU-[0-9A-Za-z-]{1,96}$/;

function child(node: unknown, ...path: string[]): unknown {
  let cur: unknown = node;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Node)[key];
  }
  return cur;
}

/** The text of a leaf; an element that carries attributes keeps its text under `_`. */
function text(node: unknown, ...path: string[]): string | null {
  const v = child(node, ...path);
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as Node)['_'] === 'string') return (v as Node)['_'] as string;
  return null;
}

function list(v: unknown): unknown[] {
  if (v === undefined || v === null || v === '') return [];
  return Array.isArray(v) ? v : [v];
}

function clockEventReasons(gpu: unknown): ClockEventReasons {
  // Drivers before 530 call them throttle reasons; the fields are the same.
  const modern = child(gpu, 'clocks_event_reasons');
  const [node, prefix] = modern !== undefined ? [modern, 'clocks_event_reason_'] : [child(gpu, 'clocks_throttle_reasons'), 'clocks_throttle_reason_'];
  const r = (name: string): boolean | null => flag(text(node, prefix + name));
  return {
    gpuIdle: r('gpu_idle'),
    applicationsClocksSetting: r('applications_clocks_setting'),
    swPowerCap: r('sw_power_cap'),
    hwSlowdown: r('hw_slowdown'),
    hwThermalSlowdown: r('hw_thermal_slowdown'),
    hwPowerBrakeSlowdown: r('hw_power_brake_slowdown'),
    syncBoost: r('sync_boost'),
    swThermalSlowdown: r('sw_thermal_slowdown'),
    displayClocksSetting: r('display_clocks_setting'),
  };
}

function power(gpu: unknown): GpuInfo['power'] {
  // v12+ moved the readings to <gpu_power_readings>; drivers from ~560 and v13
  // replaced <power_draw> with <average_power_draw> and <instant_power_draw>;
  // v8-v11 name the limit <power_limit> where later ones say <current_power_limit>.
  const p = child(gpu, 'gpu_power_readings') ?? child(gpu, 'power_readings');
  const average = milliwatts(text(p, 'average_power_draw'));
  const instant = milliwatts(text(p, 'instant_power_draw'));
  return {
    drawMw: average ?? milliwatts(text(p, 'power_draw')) ?? instant,
    instantMw: instant,
    limitMw: milliwatts(text(p, 'current_power_limit')) ?? milliwatts(text(p, 'power_limit')) ?? milliwatts(text(p, 'enforced_power_limit')),
    defaultLimitMw: milliwatts(text(p, 'default_power_limit')),
    minLimitMw: milliwatts(text(p, 'min_power_limit')),
    maxLimitMw: milliwatts(text(p, 'max_power_limit')),
  };
}

function ecc(node: unknown): EccCounts {
  // v8-v10 split counts into <single_bit>/<double_bit> with a <total>; later
  // schemas give SRAM and DRAM counts. An uncorrectable error is a double-bit one.
  const sum = (...vals: (number | null)[]): number | null => (vals.every((v) => v === null) ? null : vals.reduce<number>((a, v) => a + (v ?? 0), 0));
  if (child(node, 'double_bit') !== undefined) {
    return { correctable: intIn(text(node, 'single_bit', 'total')), uncorrectable: intIn(text(node, 'double_bit', 'total')) };
  }
  return {
    correctable: sum(intIn(text(node, 'sram_correctable')), intIn(text(node, 'dram_correctable'))),
    uncorrectable: sum(intIn(text(node, 'sram_uncorrectable')), intIn(text(node, 'dram_uncorrectable'))),
  };
}

function migDevices(gpu: unknown): MigDevice[] {
  return list(child(gpu, 'mig_devices', 'mig_device')).map((d) => ({
    index: intIn(text(d, 'index')),
    gpuInstanceId: intIn(text(d, 'gpu_instance_id')),
    computeInstanceId: intIn(text(d, 'compute_instance_id')),
    multiprocessors: intIn(text(d, 'device_attributes', 'shared', 'multiprocessor_count')),
    memoryTotalMiB: intIn(text(d, 'fb_memory_usage', 'total'), MIB),
    memoryUsedMiB: intIn(text(d, 'fb_memory_usage', 'used'), MIB),
  }));
}

function remappedRows(gpu: unknown): GpuInfo['remappedRows'] {
  const r = child(gpu, 'remapped_rows');
  if (typeof r !== 'object' || r === null) return null;
  return {
    correctable: intIn(text(r, 'remapped_row_corr')),
    uncorrectable: intIn(text(r, 'remapped_row_unc')),
    pending: flag(text(r, 'remapped_row_pending')),
    failure: flag(text(r, 'remapped_row_failure')),
  };
}

function gpuInfo(gpu: Node, index: number): GpuInfo {
  const uuid = (text(gpu, 'uuid') ?? '').trim();
  if (!UUID.test(uuid)) {
    throw new CapanodeError('probe-output-invalid', `nvidia-smi described GPU ${index} with an unusable UUID "${uuid.slice(0, 100)}"`, {
      hint: 'run `nvidia-smi -q -x` and check the <uuid> elements; a GPU that cannot report its UUID is usually failing',
    });
  }
  const link = child(gpu, 'pci', 'pci_gpu_link_info');
  const retired = child(gpu, 'retired_pages');
  const idAttr = child(gpu, '$', 'id');
  return {
    index,
    uuid,
    name: (text(gpu, 'product_name') ?? '').trim(),
    brand: known(text(gpu, 'product_brand')),
    architecture: known(text(gpu, 'product_architecture')),
    serial: known(text(gpu, 'serial')),
    pciBusId: known(text(gpu, 'pci', 'pci_bus_id')) ?? (typeof idAttr === 'string' ? known(idAttr) : null),
    vbios: known(text(gpu, 'vbios_version')),
    memoryTotalMiB: intIn(text(gpu, 'fb_memory_usage', 'total'), MIB),
    memoryUsedMiB: intIn(text(gpu, 'fb_memory_usage', 'used'), MIB),
    computeMode: known(text(gpu, 'compute_mode')),
    persistenceMode: flag(text(gpu, 'persistence_mode')),
    performanceState: known(text(gpu, 'performance_state')),
    utilization: { gpu: intIn(text(gpu, 'utilization', 'gpu_util'), PERCENT), memory: intIn(text(gpu, 'utilization', 'memory_util'), PERCENT) },
    temperature: {
      gpuC: intIn(text(gpu, 'temperature', 'gpu_temp'), CELSIUS),
      memoryC: intIn(text(gpu, 'temperature', 'memory_temp'), CELSIUS),
      slowdownC: intIn(text(gpu, 'temperature', 'gpu_temp_slow_threshold'), CELSIUS),
      shutdownC: intIn(text(gpu, 'temperature', 'gpu_temp_max_threshold'), CELSIUS),
    },
    mig: { current: flag(text(gpu, 'mig_mode', 'current_mig')), pending: flag(text(gpu, 'mig_mode', 'pending_mig')), devices: migDevices(gpu) },
    power: power(gpu),
    clocks: {
      smMhz: intIn(text(gpu, 'clocks', 'sm_clock'), MHZ),
      graphicsMhz: intIn(text(gpu, 'clocks', 'graphics_clock'), MHZ),
      memoryMhz: intIn(text(gpu, 'clocks', 'mem_clock'), MHZ),
      maxSmMhz: intIn(text(gpu, 'max_clocks', 'sm_clock'), MHZ),
      maxGraphicsMhz: intIn(text(gpu, 'max_clocks', 'graphics_clock'), MHZ),
      maxMemoryMhz: intIn(text(gpu, 'max_clocks', 'mem_clock'), MHZ),
    },
    pcie: {
      genCurrent: intIn(text(link, 'pcie_gen', 'current_link_gen')),
      genMax: intIn(text(link, 'pcie_gen', 'max_link_gen')),
      widthCurrent: intIn(text(link, 'link_widths', 'current_link_width'), WIDTH),
      widthMax: intIn(text(link, 'link_widths', 'max_link_width'), WIDTH),
      replayCount: intIn(text(gpu, 'pci', 'replay_counter')),
    },
    ecc: {
      current: flag(text(gpu, 'ecc_mode', 'current_ecc')),
      pending: flag(text(gpu, 'ecc_mode', 'pending_ecc')),
      volatile: ecc(child(gpu, 'ecc_errors', 'volatile')),
      aggregate: ecc(child(gpu, 'ecc_errors', 'aggregate')),
    },
    retiredPages: {
      singleBit: intIn(text(retired, 'multiple_single_bit_retirement', 'retired_count')),
      doubleBit: intIn(text(retired, 'double_bit_retirement', 'retired_count')),
      // Older drivers call the pending list the "blacklist".
      pending: flag(text(retired, 'pending_retirement')) ?? flag(text(retired, 'pending_blacklist')),
    },
    remappedRows: remappedRows(gpu),
    clockEventReasons: clockEventReasons(gpu),
    resetRequired: flag(text(gpu, 'gpu_reset_status', 'reset_required')),
  };
}

/**
 * The inventory in node-nvidia-smi's result. Throws CapanodeError
 * `probe-output-invalid` naming what is wrong when it is not an nvidia-smi
 * log (truncated, another program's output, a GPU without a usable UUID).
 */
export function parseSmiLog(data: unknown): Inventory {
  const parsed = LogSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? '' : ` at ${issue.path.join('.') || 'the root'}: ${issue.message}`;
    throw new CapanodeError('probe-output-invalid', `nvidia-smi -q -x did not print an <nvidia_smi_log> document nvidia-smi would write${where}`, {
      hint: 'run `nvidia-smi -q -x` by hand; if its output is cut short or mixed with other text, reinstall the driver utilities',
    });
  }
  const log = parsed.data.nvidia_smi_log;
  const gpus = list(log.gpu).map((g, i) => gpuInfo(g as Node, i));
  return {
    gpus,
    driverVersion: known(log.driver_version),
    cudaVersion: known(log.cuda_version),
    attachedGpus: intIn(log.attached_gpus),
  };
}
