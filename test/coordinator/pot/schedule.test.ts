/** When challenge rounds happen (coordinator/pot/schedule.ts): keyed, bounded, the same in every process, unpredictable without the key. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { roundKey, RoundSchedule, ROUNDS_PER_ERA, type Round } from '../../../coordinator/pot/schedule.js';
import { testKey } from '../../helpers/keys.js';

const settings = { minIntervalMs: 10 * 60_000, maxIntervalMs: 50 * 60_000 };
const key = testKey('schedule-coordinator');
const T = 1_764_000_000_000;

function rounds(schedule: RoundSchedule, from: number, count: number): Round[] {
  const out: Round[] = [];
  let at = from;
  for (let i = 0; i < count; i++) {
    const r = schedule.next(at);
    out.push(r);
    at = r.at;
  }
  return out;
}

describe('round schedule', () => {
  const schedule = new RoundSchedule(roundKey(key.secretKey), settings);
  const list = rounds(schedule, T, 2000);
  const gaps = list.slice(1).map((r, i) => r.at - (list[i] as Round).at);

  it('spaces rounds [min, max] apart, [min, 2 max) across an era boundary, with the configured mean', () => {
    expect(schedule.eraMs).toBe(ROUNDS_PER_ERA * 30 * 60_000);
    list.slice(1).forEach((r, i) => {
      const gap = gaps[i] as number;
      const prev = list[i] as Round;
      expect(gap).toBeGreaterThanOrEqual(settings.minIntervalMs);
      expect(gap).toBeLessThan(r.era === prev.era ? settings.maxIntervalMs + 1 : 2 * settings.maxIntervalMs);
    });
    const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
    expect(Math.abs(mean - 30 * 60_000)).toBeLessThan(60_000);
  });

  it('is the same in every process that holds the key, from wherever it starts looking', () => {
    const other = new RoundSchedule(roundKey(key.secretKey), settings);
    expect(rounds(other, T, 50)).toEqual(list.slice(0, 50));
    const mid = list[700] as Round;
    expect(other.next(mid.at - 1)).toEqual(mid);
    expect(other.next(mid.at)).toEqual(list[701]);
    expect([...other.era(mid.era)].find((r) => r.index === mid.index)).toEqual(mid);
  });

  it('is not predictable from what nodes see: another key gives other times; past gaps say nothing about the next', () => {
    const elsewhere = new RoundSchedule(roundKey(testKey('another-coordinator').secretKey), settings);
    const times = new Set(list.slice(0, 200).map((r) => r.at));
    expect(rounds(elsewhere, T, 200).filter((r) => times.has(r.at)).length).toBeLessThan(3);
    // The public key (all a node knows of the coordinator) does not give the schedule.
    const fromPublic = new RoundSchedule(roundKey(key.publicKey), settings);
    expect(rounds(fromPublic, T, 20)).not.toEqual(list.slice(0, 20));
    // Each gap is uniform over [min, max], whatever came before: the four quarters equally often, consecutive gaps uncorrelated.
    const quarter = (g: number) => Math.min(3, Math.floor(((g - settings.minIntervalMs) * 4) / (settings.maxIntervalMs - settings.minIntervalMs + 1)));
    const inEra = gaps.filter((_, i) => (list[i + 1] as Round).era === (list[i] as Round).era);
    const counts = [0, 0, 0, 0];
    for (const g of inEra) counts[quarter(g)] = (counts[quarter(g)] ?? 0) + 1;
    for (const c of counts) expect(Math.abs(c / inEra.length - 0.25)).toBeLessThan(0.04);
    const mean = inEra.reduce((s, g) => s + g, 0) / inEra.length;
    let cov = 0;
    let variance = 0;
    for (let i = 1; i < inEra.length; i++) cov += ((inEra[i] as number) - mean) * ((inEra[i - 1] as number) - mean);
    for (const g of inEra) variance += (g - mean) ** 2;
    expect(Math.abs(cov / variance)).toBeLessThan(0.06);
  });

  it('draws each gap from HMAC(HMAC(secret key, label), era || index) as documented', () => {
    const k = createHmac('sha256', key.secretKey).update('capanode:pot:rounds:v1').digest();
    const msg = Buffer.alloc(12);
    msg.writeBigUInt64BE(7n, 0);
    msg.writeUInt32BE(3, 8);
    const draw = createHmac('sha256', k).update(msg).digest().readBigUInt64BE(0);
    expect(schedule.gap(7, 3)).toBe(settings.minIntervalMs + Number(draw % BigInt(settings.maxIntervalMs - settings.minIntervalMs + 1)));
  });

  it('refuses intervals it cannot draw from', () => {
    expect(() => new RoundSchedule(roundKey(key.secretKey), { minIntervalMs: 5, maxIntervalMs: 4 })).toThrow(/min <= max/);
    expect(() => new RoundSchedule(roundKey(key.secretKey), { minIntervalMs: 0, maxIntervalMs: 4 })).toThrow(/min <= max/);
  });
});
