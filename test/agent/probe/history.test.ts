import { describe, expect, it } from 'vitest';
import { SampleHistory, type Sample } from '../../../agent/probe/index.js';

const A = 'GPU-aaaaaaaa-0000-0000-0000-000000000000';
const B = 'GPU-bbbbbbbb-0000-0000-0000-000000000000';

function sample(uuid: string, at: number, v: Partial<Sample> = {}): Sample {
  return {
    uuid,
    index: uuid === A ? 0 : 1,
    at,
    util: 50,
    memUsedMiB: 1000,
    memTotalMiB: 8192,
    tempC: 60,
    powerMw: 100_000,
    smClockMhz: 1500,
    clockEventReasons: 0,
    pcie: { genCurrent: 4, genMax: 4, widthCurrent: 16, widthMax: 16 },
    ...v,
  };
}

describe('SampleHistory.summarize', () => {
  it('means over the window, highest temperature, integers, GPUs in index order', () => {
    const h = new SampleHistory();
    h.add(sample(B, 1_000, { util: 10 }));
    h.add(sample(A, 1_000, { util: 10, tempC: 50, powerMw: 100_000, memUsedMiB: 1000, smClockMhz: 1000 }));
    h.add(sample(A, 2_000, { util: 21, tempC: 71, powerMw: 200_001, memUsedMiB: 2000, smClockMhz: 2000 }));
    h.add(sample(A, 3_000, { util: 30, tempC: 60, powerMw: null, memUsedMiB: 3001, smClockMhz: null }));
    h.add(sample(A, 9_000, { util: 99, tempC: 99 }));
    expect(h.summarize(1_000, 3_000)).toEqual([
      { uuid: A, util: 20, memUsedMiB: 2000, tempC: 71, powerMw: 150_001, smClockMhz: 1500 },
      { uuid: B, util: 10, memUsedMiB: 1000, tempC: 60, powerMw: 100_000, smClockMhz: 1500 },
    ]);
  });

  it('gives nulls for a GPU with no sample in the window', () => {
    const h = new SampleHistory();
    h.add(sample(A, 1_000));
    expect(h.summarize(5_000, 6_000)).toEqual([{ uuid: A, util: null, memUsedMiB: null, tempC: null, powerMw: null, smClockMhz: null }]);
  });

  it('keeps only the retention window and stays sorted when the clock steps back', () => {
    const h = new SampleHistory({ retainMs: 10_000 });
    for (let t = 0; t <= 60_000; t += 1_000) h.add(sample(A, t));
    expect(h.size(A)).toBe(11);
    h.add(sample(A, 55_500, { util: 0 }));
    expect(h.summarize(55_500, 55_500)[0]!.util).toBe(0);
    expect(h.latest().get(A)!.at).toBe(60_000);
  });

  it('bounds the count per GPU whatever the clock does', () => {
    const h = new SampleHistory({ maxSamples: 5 });
    for (let i = 0; i < 20; i++) h.add(sample(A, 1_000));
    expect(h.size()).toBe(5);
  });
});

describe('SampleHistory.energyMj', () => {
  it('integrates constant power exactly: 100 W for 10 s = 1 000 000 mJ', () => {
    const h = new SampleHistory();
    for (let t = 0; t <= 10_000; t += 1_000) h.add(sample(A, t, { powerMw: 100_000 }));
    expect(h.energyMj(A, 0, 10_000)).toBe(1_000_000);
  });

  it('uses trapezoids and interpolates at the window edges', () => {
    const h = new SampleHistory();
    h.add(sample(A, 0, { powerMw: 0 }));
    h.add(sample(A, 2_000, { powerMw: 200_000 }));
    // 0..2 s ramp to 200 W: 200 J total; window 1..2 s: (100 + 200)/2 W × 1 s = 150 J
    expect(h.energyMj(A, 0, 2_000)).toBe(200_000);
    expect(h.energyMj(A, 1_000, 2_000)).toBe(150_000);
  });

  it('counts nothing across a gap longer than maxGapMs, and null when nothing could be integrated', () => {
    const h = new SampleHistory({ maxGapMs: 5_000 });
    h.add(sample(A, 0, { powerMw: 100_000 }));
    h.add(sample(A, 1_000, { powerMw: 100_000 }));
    h.add(sample(A, 60_000, { powerMw: 100_000 }));
    expect(h.energyMj(A, 0, 60_000)).toBe(100_000);
    expect(h.energyMj(A, 2_000, 50_000)).toBeNull();
    expect(h.energyMj(B, 0, 60_000)).toBeNull();
    expect(h.energyMj(A, 10, 10)).toBeNull();
  });

  it('skips readings without power', () => {
    const h = new SampleHistory();
    h.add(sample(A, 0, { powerMw: 50_000 }));
    h.add(sample(A, 1_000, { powerMw: null }));
    h.add(sample(A, 2_000, { powerMw: 50_000 }));
    expect(h.energyMj(A, 0, 2_000)).toBe(100_000);
  });
});
