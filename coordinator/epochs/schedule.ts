/**
 * Where epochs fall on the coordinator's clock. Epoch i covers
 * [genesis + i·epochMs, genesis + (i+1)·epochMs); it is closed once the
 * close delay has passed after its end, so uptime records that arrive just
 * after the boundary still count for the part of the epoch they cover, and
 * closing again later sees exactly the same records.
 */
import type { EpochSchedule } from '../store/ledger-types.js';

export interface EpochWindow {
  index: number;
  startMs: number;
  endMs: number;
  /** Uptime records received before this time count (endMs + close delay): when the epoch can be closed. */
  untilMs: number;
}

export function epochWindow(schedule: EpochSchedule, index: number, closeDelayMs: number): EpochWindow {
  const startMs = schedule.genesisMs + index * schedule.epochMs;
  const endMs = startMs + schedule.epochMs;
  return { index, startMs, endMs, untilMs: endMs + closeDelayMs };
}

/** The epoch under way at `atMs` (-1 before genesis). */
export function epochAt(schedule: EpochSchedule, atMs: number): number {
  return Math.floor((atMs - schedule.genesisMs) / schedule.epochMs);
}

/** The highest epoch that can be closed at `atMs` (its end plus the close delay has passed); -1 when none. */
export function lastClosable(schedule: EpochSchedule, atMs: number, closeDelayMs: number): number {
  return epochAt(schedule, atMs - closeDelayMs) - 1;
}

/** A new store's schedule: epochs aligned to multiples of epochMs since the Unix epoch (on the hour), or starting now. */
export function proposedSchedule(nowMs: number, epochMs: number, aligned: boolean): EpochSchedule {
  return { genesisMs: aligned ? Math.floor(nowMs / epochMs) * epochMs : nowMs, epochMs };
}
