/**
 * Uptime: union of the intervals credited by attestations with fresh
 * beacons, each ending when the coordinator received it and at most two
 * heartbeats long, clipped to the epoch.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coveredMs, DEFAULT_REWARD_PARAMS, uptimePpm, type UptimeAttestation } from '../../../coordinator/rewards/index.js';
import { shuffled } from './arbitraries.js';

const P = DEFAULT_REWARD_PARAMS;
const START = 1_700_000_000_000;
const HB = P.heartbeatMs;

/** A heartbeat every 30 s from `from` to `to`, each citing a beacon 10 s old. */
function heartbeats(from: number, to: number): UptimeAttestation[] {
  const out: UptimeAttestation[] = [];
  for (let t = from + HB; t <= to; t += HB) out.push({ from: t - HB, to: t, beaconTime: t - 10_000, receivedAt: t + 50 });
  return out;
}

const attestationArb = fc.record({
  receivedAt: fc.integer({ min: START - 200_000, max: START + P.epochMs + 200_000 }),
  length: fc.integer({ min: -1000, max: 200_000 }),
  beaconAge: fc.oneof(fc.constant(null), fc.integer({ min: -5_000, max: 300_000 })),
}).map(({ receivedAt, length, beaconAge }): UptimeAttestation => ({ from: receivedAt - length - 7, to: receivedAt - 7, beaconTime: beaconAge === null ? null : receivedAt - beaconAge, receivedAt }));

/** The same coverage by brute force over one-second slots (all times are whole seconds here). */
function bruteForce(atts: UptimeAttestation[]): number {
  const slots = new Set<number>();
  for (const a of atts) {
    if (a.beaconTime === null || a.beaconTime > a.receivedAt || a.receivedAt - a.beaconTime > P.beaconFreshMs || a.to <= a.from) continue;
    const start = Math.max(a.receivedAt - Math.min(a.to - a.from, 2 * HB), START);
    const end = Math.min(a.receivedAt, START + P.epochMs);
    for (let t = start; t < end; t += 1000) slots.add(t);
  }
  return slots.size * 1000;
}

describe('coveredMs', () => {
  it('a node online all epoch, heartbeating every 30 s, is covered all epoch', () => {
    expect(coveredMs(heartbeats(START - HB, START + P.epochMs + HB), START, P)).toBe(P.epochMs);
  });

  it('stale or missing beacons count for nothing, whatever the node\'s own clock says', () => {
    const online = heartbeats(START, START + P.epochMs);
    const stale = online.map((a) => ({ ...a, beaconTime: a.receivedAt - P.beaconFreshMs - 1 }));
    expect(coveredMs(stale, START, P)).toBe(0);
    expect(coveredMs(online.map((a) => ({ ...a, beaconTime: null })), START, P)).toBe(0);
    // A beacon from the future (a forged time) is not fresh either.
    expect(coveredMs(online.map((a) => ({ ...a, beaconTime: a.receivedAt + 1 })), START, P)).toBe(0);
  });

  it('one attestation claiming the whole epoch is credited two heartbeats, ending when it arrived', () => {
    const a: UptimeAttestation = { from: START, to: START + P.epochMs, beaconTime: START + 1_000_000, receivedAt: START + 1_000_050 };
    expect(coveredMs([a], START, P)).toBe(2 * HB);
  });

  it('equals a brute-force count of covered seconds, in any order, and never exceeds the epoch', () => {
    fc.assert(
      fc.property(fc.array(attestationArb.map((a) => ({ ...a, receivedAt: Math.round(a.receivedAt / 1000) * 1000, from: Math.round(a.from / 1000) * 1000, to: Math.round(a.to / 1000) * 1000, beaconTime: a.beaconTime === null ? null : Math.round(a.beaconTime / 1000) * 1000 })), { maxLength: 40 }), fc.array(fc.integer(), { minLength: 1 }), (atts, keys) => {
        const c = coveredMs(atts, START, P);
        expect(c).toBe(bruteForce(atts));
        expect(coveredMs(shuffled(atts, keys), START, P)).toBe(c);
        expect(c).toBeLessThanOrEqual(P.epochMs);
      }),
      { numRuns: 150 },
    );
  });

  it('adding an attestation never lowers coverage', () => {
    fc.assert(
      fc.property(fc.array(attestationArb, { maxLength: 30 }), attestationArb, (atts, extra) => {
        expect(coveredMs([...atts, extra], START, P)).toBeGreaterThanOrEqual(coveredMs(atts, START, P));
      }),
    );
  });

  it('uptimePpm rounds down', () => {
    expect(uptimePpm(P.epochMs, P)).toBe(1_000_000);
    expect(uptimePpm(1, P)).toBe(0);
    expect(uptimePpm(P.epochMs / 2, P)).toBe(500_000);
  });
});
