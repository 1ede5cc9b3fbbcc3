/**
 * The daemon's view of its GPUs: the inventory taken at start, one telemetry
 * child for the daemon's life, and the findings drawn from both (refreshed
 * on each status request and at most once a minute for the kernel log).
 */
import type { Logger } from '../../common/log.js';
import type { BodyOf } from '../../proofs/envelope.js';
import { collectFindings, probeInventory, readXidErrors, Telemetry, type InventoryResult, type Sample, type XidReport } from '../probe/index.js';
import type { FindingStatus, GpuStatus } from '../status/index.js';

export interface GpuSource {
  inventory(): { gpus: { index: number; uuid: string; name: string; memTotalMiB: number | null; powerLimitW: number | null }[] };
  /** The uptime attestation's per-GPU figures for a window. */
  summarize(fromMs: number, toMs: number): BodyOf['uptime']['gpus'];
  /** Energy used by one GPU over a window (mJ), for job metering. */
  energyMj(uuid: string, fromMs: number, toMs: number): number | null;
  status(): GpuStatus[];
  findings(): FindingStatus[];
  stop(): Promise<void>;
}

const XID_REFRESH_MS = 60_000;

export async function openGpuSource(options: { intervalMs: number; dataDir: string; logger: Logger; now?: () => number }): Promise<GpuSource> {
  const now = options.now ?? Date.now;
  const inventory: InventoryResult = await probeInventory();
  for (const f of inventory.findings) options.logger.warn({ finding: f }, f.message);
  if (inventory.gpus.length === 0) options.logger.info('no GPU found: the agent runs on the CPU (see `capanode probe`)');
  const telemetry = inventory.gpus.length > 0 ? new Telemetry({ intervalMs: options.intervalMs, logger: options.logger.child({ component: 'telemetry' }) }) : null;
  telemetry?.start();
  let xid: XidReport | undefined;
  let xidAt = 0;
  let xidPending = false;
  const refreshXid = () => {
    if (xidPending || now() - xidAt < XID_REFRESH_MS) return;
    xidPending = true;
    readXidErrors()
      .then((r) => {
        xid = r;
        xidAt = now();
      })
      .catch((err: unknown) => options.logger.debug({ err }, 'kernel log not read'))
      .finally(() => (xidPending = false));
  };
  refreshXid();

  return {
    inventory: () => ({
      gpus: inventory.gpus.map((g) => ({ index: g.index, uuid: g.uuid, name: g.name, memTotalMiB: g.memoryTotalMiB, powerLimitW: g.power.limitMw === null ? null : Math.ceil(g.power.limitMw / 1000) })),
    }),
    summarize(fromMs, toMs) {
      if (telemetry === null) return [];
      return telemetry.summarize(fromMs, toMs).map((w) => ({ uuid: w.uuid, util: w.util, memUsedMiB: w.memUsedMiB, tempC: w.tempC, powerMw: w.powerMw, smClockMhz: w.smClockMhz }));
    },
    energyMj: (uuid, fromMs, toMs) => telemetry?.energyMj(uuid, fromMs, toMs) ?? null,
    status() {
      const latest: ReadonlyMap<string, Sample> = telemetry?.latest() ?? new Map<string, Sample>();
      return inventory.gpus.map((g) => {
        const s = latest.get(g.uuid);
        return {
          index: g.index,
          uuid: g.uuid,
          name: g.name,
          util: s?.util ?? null,
          memUsedMiB: s?.memUsedMiB ?? null,
          memTotalMiB: s?.memTotalMiB ?? g.memoryTotalMiB,
          tempC: s?.tempC ?? null,
          powerMw: s?.powerMw ?? null,
          smClockMhz: s?.smClockMhz ?? null,
          sampledAt: s?.at ?? null,
        };
      });
    },
    findings() {
      refreshXid();
      return collectFindings(inventory, telemetry?.latest() ?? new Map<string, Sample>(), { ...(xid === undefined ? {} : { xid }), ...(telemetry === null ? {} : { telemetry: telemetry.state() }) });
    },
    stop: async () => {
      await telemetry?.stop();
    },
  };
}
