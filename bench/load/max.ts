/**
 * The max run (--max): how many records a second the coordinators (one
 * process on the default SQLite store: "SQLite's single-process maximum")
 * acknowledge within the latency limit. Agents sending at a short interval
 * are added a step at a time; each step is measured once its agents are up
 * and settled. The search ends at the first step whose p99 ack latency
 * passes the limit, that has any failure, that loses a connection, or that
 * acknowledges less than 95% of what its agents offer, or at --agents.
 */
import { addCounts, failureTotal, seconds } from './fleet.js';
import { latencyFigures } from './hold.js';
import type { LoadOptions } from './options.js';
import { progress, sleep, untilConnected, type Rig } from './rig.js';

/** A step keeps up when it acknowledges at least this share of the records its agents offer. */
const KEEP_UP = 0.95;

export async function runMax(o: LoadOptions, rig: Rig): Promise<Record<string, unknown>> {
  const { fleet, coordinators } = rig;
  const offeredPerAgent = 1000 / o.intervalMs;
  const steps: Record<string, unknown>[] = [];
  let best: { recordsPerSec: number; agents: number; p99: number | null } | null = null;
  let stoppedBecause = `reached --agents ${o.agents}`;
  let agents = 0;
  for (let k = 1; agents < o.agents; k++) {
    const ramp = await fleet.phase(`ramp-${k}`);
    const adding = Math.min(o.step, o.agents - agents);
    agents += adding;
    fleet.add(adding, o.ramp);
    const up = await untilConnected(fleet, agents, (adding / o.ramp) * 1500 + 30_000);
    await sleep(o.intervalMs);
    const step = await fleet.phase(`step-${k}`);
    await sleep(o.stepSeconds * 1000);
    await fleet.phase(`after-${k}`);
    const s = seconds(step);
    const recordsPerSec = Math.round(step.acked / s);
    const offeredPerSec = Math.round(agents * offeredPerAgent);
    const latency = latencyFigures(step);
    const failures = failureTotal(ramp) + failureTotal(step);
    const held = up && (step.connectedMin ?? 0) >= agents;
    const keptUp = recordsPerSec >= KEEP_UP * offeredPerSec;
    const withinLimit = latency.p99 !== null && latency.p99 <= o.p99LimitMs;
    steps.push({
      agents,
      offeredPerSec,
      recordsPerSec,
      ackLatencyMs: latency,
      connectedMin: step.connectedMin ?? 0,
      failures: addCounts(addCounts({}, ramp.failures), step.failures),
      rssMB: coordinators.map((c) => {
        const rss = c.rss();
        return rss === null ? null : Math.round(rss / 2 ** 20);
      }),
    });
    progress(`step ${k}: ${agents} agents, ${recordsPerSec}/${offeredPerSec} records/s acked, p50 ${latency.p50 ?? '-'} ms, p99 ${latency.p99 ?? '-'} ms, ${failures} failures`);
    if (!withinLimit || failures > 0 || !held || !keptUp) {
      stoppedBecause = !withinLimit
        ? `p99 ${latency.p99 ?? '-'} ms > ${o.p99LimitMs} ms at ${agents} agents`
        : failures > 0
          ? `${failures} failures at ${agents} agents`
          : !held
            ? `connections not all held at ${agents} agents`
            : `acknowledged ${recordsPerSec} of ${offeredPerSec} records/s offered at ${agents} agents`;
      break;
    }
    if (best === null || recordsPerSec > best.recordsPerSec) best = { recordsPerSec, agents, p99: latency.p99 };
  }
  return {
    mode: 'max',
    settings: { coordinators: o.coordinators, store: rig.store, intervalS: o.intervalMs / 1000, step: o.step, stepSeconds: o.stepSeconds, p99LimitMs: o.p99LimitMs, maxAgents: o.agents, ramp: o.ramp, workers: o.workers },
    maxRecordsPerSec: best?.recordsPerSec ?? 0,
    atAgents: best?.agents ?? 0,
    p99AtMaxMs: best?.p99 ?? null,
    stoppedBecause,
    steps,
  };
}
