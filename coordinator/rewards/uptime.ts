/**
 * Uptime u (DESIGN §8): the part of the epoch covered by uptime attestations
 * whose beacon was still fresh when the coordinator received them. Placed on
 * the coordinator's clock, never the node's: an attestation is credited for
 * the interval that ends when it was received and is as long as the node says
 * it covers, at most `creditHeartbeats` heartbeat intervals. The credited
 * intervals are merged (overlaps count once) and clipped to the epoch.
 */
import { PPM, type RewardParams } from './params.js';

export interface UptimeAttestation {
  /** The node's own interval (its clock): only its length is used, capped. */
  from: number;
  to: number;
  /** The coordinator's time on the beacon the attestation cites; null if it cites none. */
  beaconTime: number | null;
  /** When the coordinator received the attestation (its clock). */
  receivedAt: number;
}

type UptimeParams = Pick<RewardParams, 'epochMs' | 'heartbeatMs' | 'creditHeartbeats' | 'beaconFreshMs'>;

/** Whether the beacon proves the attestation was made at most beaconFreshMs before it arrived. */
export function isFresh(a: UptimeAttestation, params: Pick<RewardParams, 'beaconFreshMs'>): boolean {
  return a.beaconTime !== null && a.beaconTime <= a.receivedAt && a.receivedAt - a.beaconTime <= params.beaconFreshMs;
}

/** Milliseconds of [epochStartMs, epochStartMs + epochMs) covered by fresh attestations. */
export function coveredMs(attestations: readonly UptimeAttestation[], epochStartMs: number, params: UptimeParams): number {
  const epochEnd = epochStartMs + params.epochMs;
  const maxCredit = params.creditHeartbeats * params.heartbeatMs;
  const starts: number[] = [];
  const ends: number[] = [];
  let sorted = true;
  for (const a of attestations) {
    if (!isFresh(a, params) || a.to <= a.from) continue;
    const end = Math.min(a.receivedAt, epochEnd);
    const start = Math.max(a.receivedAt - Math.min(a.to - a.from, maxCredit), epochStartMs);
    if (end <= start) continue;
    if (starts.length > 0 && start < (starts[starts.length - 1] ?? 0)) sorted = false;
    starts.push(start);
    ends.push(end);
  }
  // Attestations usually arrive in order; sort only when they did not.
  const order = starts.map((_, i) => i);
  if (!sorted) order.sort((i, j) => (starts[i] ?? 0) - (starts[j] ?? 0));
  let covered = 0;
  let runStart = -1;
  let runEnd = -1;
  for (const i of order) {
    const s = starts[i] ?? 0;
    const e = ends[i] ?? 0;
    if (s > runEnd) {
      covered += runEnd - runStart;
      runStart = s;
      runEnd = e;
    } else if (e > runEnd) {
      runEnd = e;
    }
  }
  return covered + (runEnd - runStart);
}

/** u in parts per million, rounded down. */
export function uptimePpm(covered: number, params: Pick<RewardParams, 'epochMs'>): number {
  return Math.floor((covered * PPM) / params.epochMs);
}
