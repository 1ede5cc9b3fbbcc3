/**
 * Recent samples per GPU, bounded in time, and the two figures the daemon
 * takes from them: a window's summary for the uptime attestation and the
 * energy a job used (usage receipts). Pure: no clock, no I/O.
 */
import type { GpuWindow, Sample } from './types.js';

export interface HistoryOptions {
  /** Samples older than this, relative to the newest one, are dropped. Default one hour. */
  retainMs?: number;
  /** A gap between two power readings longer than this is not integrated (nothing is known about it). Default 10 s. */
  maxGapMs?: number;
  /** Hard bound per GPU whatever the clock does. Default 100 000. */
  maxSamples?: number;
}

function mean(values: (number | null)[]): number | null {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (v === null) continue;
    sum += v;
    n++;
  }
  return n === 0 ? null : Math.round(sum / n);
}

function max(values: (number | null)[]): number | null {
  let m: number | null = null;
  for (const v of values) if (v !== null && (m === null || v > m)) m = v;
  return m;
}

/** First position in `s` (sorted by `at`) whose time is >= t. */
function lowerBound(s: readonly Sample[], t: number): number {
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((s[mid] as Sample).at < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SampleHistory {
  private readonly byGpu = new Map<string, Sample[]>();
  private readonly latestByGpu = new Map<string, Sample>();
  private readonly retainMs: number;
  private readonly maxGapMs: number;
  private readonly maxSamples: number;

  constructor(options: HistoryOptions = {}) {
    this.retainMs = options.retainMs ?? 3_600_000;
    this.maxGapMs = options.maxGapMs ?? 10_000;
    this.maxSamples = options.maxSamples ?? 100_000;
  }

  add(sample: Sample): void {
    let list = this.byGpu.get(sample.uuid);
    if (list === undefined) {
      list = [];
      this.byGpu.set(sample.uuid, list);
    }
    const last = list[list.length - 1];
    // The clock the samples carry may step back (NTP); keep the list sorted.
    if (last !== undefined && sample.at < last.at) list.splice(lowerBound(list, sample.at), 0, sample);
    else list.push(sample);
    this.latestByGpu.set(sample.uuid, list[list.length - 1] as Sample);
    const cut = Math.max(lowerBound(list, (list[list.length - 1] as Sample).at - this.retainMs), list.length - this.maxSamples);
    if (cut > 0) list.splice(0, cut);
  }

  latest(): Map<string, Sample> {
    return new Map(this.latestByGpu);
  }

  /** How many samples are held for a GPU (all GPUs when none is named). */
  size(uuid?: string): number {
    if (uuid !== undefined) return this.byGpu.get(uuid)?.length ?? 0;
    let n = 0;
    for (const l of this.byGpu.values()) n += l.length;
    return n;
  }

  private window(uuid: string, fromMs: number, toMs: number): Sample[] {
    const list = this.byGpu.get(uuid) ?? [];
    return list.slice(lowerBound(list, fromMs), lowerBound(list, toMs + 1));
  }

  /**
   * Per GPU seen so far, in index order: means over the samples in
   * [fromMs, toMs] (temperature: the highest), integers or null when the
   * window holds no reading of that value.
   */
  summarize(fromMs: number, toMs: number): GpuWindow[] {
    const gpus = [...this.latestByGpu.values()].sort((a, b) => (a.index ?? Infinity) - (b.index ?? Infinity) || a.uuid.localeCompare(b.uuid));
    return gpus.map(({ uuid }) => {
      const w = this.window(uuid, fromMs, toMs);
      return {
        uuid,
        util: mean(w.map((s) => s.util)),
        memUsedMiB: mean(w.map((s) => s.memUsedMiB)),
        tempC: max(w.map((s) => s.tempC)),
        powerMw: mean(w.map((s) => s.powerMw)),
        smClockMhz: mean(w.map((s) => s.smClockMhz)),
      };
    });
  }

  /**
   * Energy in mJ over [fromMs, toMs]: the trapezoid integral of power between
   * consecutive readings, clipped to the window (power at the edges
   * interpolated from the readings either side). Gaps longer than maxGapMs
   * count nothing, so a metered job is never billed for time with no reading.
   * Null when no stretch of the window could be integrated.
   */
  energyMj(uuid: string, fromMs: number, toMs: number): number | null {
    if (!(toMs > fromMs)) return null;
    const list = (this.byGpu.get(uuid) ?? []).filter((s) => s.powerMw !== null);
    let microJ = 0;
    let covered = false;
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1] as Sample;
      const b = list[i] as Sample;
      if (b.at <= fromMs || a.at >= toMs || b.at === a.at || b.at - a.at > this.maxGapMs) continue;
      const pa = a.powerMw as number;
      const pb = b.powerMw as number;
      const at = (t: number): number => pa + ((pb - pa) * (t - a.at)) / (b.at - a.at);
      const t0 = Math.max(a.at, fromMs);
      const t1 = Math.min(b.at, toMs);
      // mW × ms = µJ
      microJ += ((at(t0) + at(t1)) / 2) * (t1 - t0);
      covered = true;
    }
    return covered ? Math.round(microJ / 1000) : null;
  }
}
