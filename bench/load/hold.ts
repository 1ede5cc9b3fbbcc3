/**
 * The hold run: ramp every agent up, let each reach its steady one record
 * per interval, then hold them all for the duration and measure records
 * acknowledged per second, ack latency, failures, and what the connections
 * cost each coordinator process in memory.
 */
import { goal } from '../suite.js';
import { failureTotal, seconds, type Fleet, type PhaseFigures } from './fleet.js';
import type { LoadOptions } from './options.js';
import { median, progress, sleep, untilConnected, type Rig } from './rig.js';

const SAMPLE_MS = 2_000;
const PROGRESS_MS = 10_000;

/** The goal of issue #10: 10,000 agents, one record every 10 s each, on two coordinator processes, held 5 minutes. */
export const GOAL = { agents: 10_000, intervalS: 10, coordinators: 2, holdSeconds: 300, p99AckMs: 250, memoryPerConnectionKB: 50 } as const;

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** A goal() line, or an unmet one with a null value when there was nothing to measure. */
function goalOf(value: number | null, op: '>=' | '<=', target: number): { value: number | null; goal: string; met: boolean } {
  return value === null ? { value: null, goal: `${op} ${target}`, met: false } : goal(value, op, target);
}

export function latencyFigures(p: PhaseFigures): { p50: number | null; p90: number | null; p99: number | null; max: number | null; samples: number } {
  const q = (x: number): number | null => {
    const v = p.latency.quantile(x);
    return v === null ? null : round1(v);
  };
  const max = p.latency.max();
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: max === null ? null : round1(max), samples: p.latency.count };
}

/** One line of the timeline: the last window's figures (not cumulative, so a stall shows where it happened). */
function windowFigures(fleet: Fleet, sinceS: number): TimelinePoint {
  const w = fleet.takeWindow();
  const q = (x: number): number | null => {
    const v = w.latency.quantile(x);
    return v === null ? null : round1(v);
  };
  return { atS: Math.round(sinceS), connected: fleet.connected(), recordsPerSec: w.seconds > 0 ? Math.round(w.acked / w.seconds) : 0, p50: q(0.5), p99: q(0.99), maxMs: q(1), failures: w.failures };
}

interface TimelinePoint {
  atS: number;
  connected: number;
  recordsPerSec: number;
  p50: number | null;
  p99: number | null;
  maxMs: number | null;
  failures: number;
}

function line(label: string, t: TimelinePoint, target: number): string {
  return `${label} ${t.atS} s: ${t.connected}/${target} connected, last ${PROGRESS_MS / 1000} s: ${t.recordsPerSec} records/s acked, p50 ${t.p50 ?? '-'} ms, p99 ${t.p99 ?? '-'} ms, max ${t.maxMs ?? '-'} ms, ${t.failures} failures`;
}

export async function runHold(o: LoadOptions, rig: Rig): Promise<Record<string, unknown>> {
  const { fleet, coordinators } = rig;
  const ramp = await fleet.phase('ramp');
  progress(`connecting ${o.agents} agents at ${o.ramp}/s over ${o.workers} worker(s)`);
  fleet.add(o.agents, o.ramp);
  const rampBudgetMs = (o.agents / o.ramp) * 1500 + 60_000;
  fleet.takeWindow();
  const reporter = setInterval(() => progress(line('ramp', windowFigures(fleet, seconds(ramp)), o.agents)), PROGRESS_MS);
  const allUp = await untilConnected(fleet, o.agents, rampBudgetMs);
  clearInterval(reporter);
  const rampSeconds = seconds(ramp);
  progress(allUp ? `all ${o.agents} connected in ${round1(rampSeconds)} s; one interval to settle` : `only ${fleet.connected()} of ${o.agents} connected after ${Math.round(rampSeconds)} s; holding what there is`);
  // One interval after the last connection every agent is sending at its own steady phase.
  await sleep(o.intervalMs);

  const hold = await fleet.phase('hold');
  fleet.takeWindow();
  const timeline: TimelinePoint[] = [];
  const cpuStart = coordinators.map((c) => c.cpuSeconds());
  const rssSamples: number[][] = coordinators.map(() => []);
  const connSamples: number[][] = coordinators.map(() => []);
  const end = hold.startedAt + o.durationS * 1000;
  let nextProgress = hold.startedAt + PROGRESS_MS;
  while (performance.now() < end) {
    await sleep(Math.min(SAMPLE_MS, Math.max(0, end - performance.now())));
    const by = fleet.connectedBy();
    coordinators.forEach((c, i) => {
      const rss = c.rss();
      if (rss !== null) rssSamples[i]?.push(rss);
      connSamples[i]?.push(by[i] ?? 0);
    });
    if (performance.now() >= nextProgress) {
      nextProgress += PROGRESS_MS;
      const point = windowFigures(fleet, seconds(hold));
      timeline.push(point);
      progress(line('hold', point, o.agents));
    }
  }
  await fleet.phase('end');
  const holdSeconds = seconds(hold);
  const cpuEnd = coordinators.map((c) => c.cpuSeconds());
  const atEnd = fleet.connected();
  const endBy = fleet.connectedBy();

  const perCoordinator = coordinators.map((c, i) => {
    const idle = rig.idleRss[i] ?? null;
    const held = median(rssSamples[i] ?? []);
    const conns = median(connSamples[i] ?? []) ?? 0;
    const cpu0 = cpuStart[i];
    const cpu1 = cpuEnd[i];
    return {
      pid: c.pid,
      url: c.url,
      connectionsAtEnd: endBy[i] ?? 0,
      connectionsHeld: conns,
      rssIdleMB: idle === null ? null : round1(idle / 2 ** 20),
      rssHoldMB: held === null ? null : round1(held / 2 ** 20),
      rssPeakMB: rssSamples[i]?.length ? round1(Math.max(...(rssSamples[i] ?? [])) / 2 ** 20) : null,
      cpuPercent: cpu0 === null || cpu0 === undefined || cpu1 === null || cpu1 === undefined ? null : Math.round(((cpu1 - cpu0) / holdSeconds) * 100),
      growth: idle === null || held === null ? null : held - idle,
      conns,
    };
  });
  const measured = perCoordinator.filter((c) => c.growth !== null && c.conns > 0);
  const memoryPerConnectionKB =
    measured.length === coordinators.length && measured.length > 0 ? round1(measured.reduce((a, c) => a + (c.growth ?? 0), 0) / measured.reduce((a, c) => a + c.conns, 0) / 1024) : null;
  const recordsPerSec = Math.round(hold.acked / holdSeconds);
  const latency = latencyFigures(hold);
  const generatorCpu = Math.round((hold.workerCpuUs / 1e6 / holdSeconds) * 100);
  const atGoalScale = o.agents >= GOAL.agents && o.intervalMs <= GOAL.intervalS * 1000 && o.coordinators >= GOAL.coordinators && o.durationS >= GOAL.holdSeconds;

  return {
    mode: 'hold',
    settings: { agents: o.agents, coordinators: o.coordinators, store: rig.store, intervalS: o.intervalMs / 1000, durationS: o.durationS, ramp: o.ramp, workers: o.workers },
    connections: { target: o.agents, atEnd, minDuringHold: hold.connectedMin ?? 0, rampSeconds: round1(rampSeconds), allConnected: allUp },
    records: { sent: hold.sent, acked: hold.acked, perSec: recordsPerSec, offeredPerSec: Math.round((o.agents * 1000) / o.intervalMs), holdSeconds: round1(holdSeconds) },
    ackLatencyMs: latency,
    failures: { total: failureTotal(ramp) + failureTotal(hold), duringRamp: ramp.failures, duringHold: hold.failures },
    reconnects: ramp.reconnects + hold.reconnects,
    coordinators: perCoordinator.map(({ growth: _g, conns: _c, ...shown }) => shown),
    memoryPerConnectionKB,
    generator: { workers: o.workers, rssMB: round1(fleet.rss() / 2 ** 20), cpuPercent: generatorCpu },
    timeline,
    atGoalScale,
    goals: {
      connectionsHeld: goal(hold.connectedMin ?? 0, '>=', GOAL.agents),
      recordsPerSec: goal(recordsPerSec, '>=', GOAL.agents / GOAL.intervalS),
      coordinatorProcesses: goal(o.coordinators, '>=', GOAL.coordinators),
      holdSeconds: goal(Math.round(holdSeconds), '>=', GOAL.holdSeconds),
      p99AckMs: goalOf(latency.p99, '<=', GOAL.p99AckMs),
      memoryPerConnectionKB: goalOf(memoryPerConnectionKB, '<=', GOAL.memoryPerConnectionKB),
    },
  };
}
