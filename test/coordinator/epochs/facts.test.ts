/** The pure parts of epoch facts and scheduling: stake during an epoch, verdict outcomes, beacon freshness, epoch windows. */
import { describe, expect, it } from 'vitest';
import { epochAt, epochStake, epochWindow, freshBeaconTime, lastClosable, proposedSchedule, verdictFact } from '../../../coordinator/epochs/index.js';
import type { StakeCredit } from '../../../coordinator/store/index.js';

const credit = (at: number, amount: number): StakeCredit => ({ ref: `r${at}`, node: 'n', at, amount, source: 'operator', note: null });

describe('epoch facts', () => {
  it('stake is what was bonded before the epoch less earlier slashes; credits during the epoch count from the next one', () => {
    const credits = [credit(10, 100), credit(50, 30), credit(150, 1000)];
    expect(epochStake(credits, 0, 100, 200)).toBe(130);
    expect(epochStake(credits, 40, 100, 200)).toBe(90);
    expect(epochStake(credits, 0, 200, 300)).toBe(1130);
    expect(epochStake(credits, 5000, 200, 300)).toBe(0);
    expect(epochStake([], 0, 0, 100)).toBe(0);
  });

  it('a verdict is a pass, a miss (deadline) or a fail; only a pass keeps its gflops', () => {
    expect(verdictFact({ node: 'n', at: 5, ok: true, gflops: 90, reason: null })).toEqual({ time: 5, outcome: 'pass', gflops: 90 });
    expect(verdictFact({ node: 'n', at: 5, ok: false, gflops: 0, reason: 'deadline: no commit within 1000 ms' })).toEqual({ time: 5, outcome: 'missed', gflops: 0 });
    expect(verdictFact({ node: 'n', at: 5, ok: false, gflops: 0, reason: 'pot-invalid: wrong-digest: row 3' })).toEqual({ time: 5, outcome: 'fail', gflops: 0 });
    expect(verdictFact({ node: 'n', at: 5, ok: false, gflops: 0, reason: 'unknown-device: GPU-x' }).outcome).toBe('fail');
  });

  it("a beacon is fresh when at most one newer beacon was issued by the record's arrival", () => {
    const r = { node: 'n', from: 0, to: 10, receivedAt: 100 };
    expect(freshBeaconTime({ ...r, beaconTime: 90, beaconsAfter: 0 })).toBe(90);
    expect(freshBeaconTime({ ...r, beaconTime: 80, beaconsAfter: 1 })).toBe(80);
    expect(freshBeaconTime({ ...r, beaconTime: 70, beaconsAfter: 2 })).toBeNull();
    expect(freshBeaconTime({ ...r, beaconTime: null, beaconsAfter: null })).toBeNull();
  });

  it('epochs: windows, the epoch at a time, the last closable one, aligned or not', () => {
    const s = { genesisMs: 1_000, epochMs: 100 };
    expect(epochWindow(s, 2, 7)).toEqual({ index: 2, startMs: 1_200, endMs: 1_300, untilMs: 1_307 });
    expect(epochAt(s, 999)).toBe(-1);
    expect(epochAt(s, 1_000)).toBe(0);
    expect(epochAt(s, 1_199)).toBe(1);
    expect(lastClosable(s, 1_106, 7)).toBe(-1);
    expect(lastClosable(s, 1_107, 7)).toBe(0);
    expect(lastClosable(s, 1_306, 7)).toBe(1);
    expect(lastClosable(s, 1_307, 7)).toBe(2);
    expect(proposedSchedule(3_600_000 * 5 + 1234, 3_600_000, true)).toEqual({ genesisMs: 3_600_000 * 5, epochMs: 3_600_000 });
    expect(proposedSchedule(3_600_000 * 5 + 1234, 3_600_000, false)).toEqual({ genesisMs: 3_600_000 * 5 + 1234, epochMs: 3_600_000 });
  });
});
