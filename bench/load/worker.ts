/**
 * A load generator worker process (forked by run.ts): runs its share of the
 * simulated agents on its own event loop and reports to the parent every
 * second. Exits when told to stop, or when the parent goes away.
 */
import { CoordinatorState, LoadAgent, type AgentSettings, type AgentStats } from './agent.js';
import { Histogram } from './histogram.js';
import type { FromWorker, ToWorker } from './protocol.js';

const STOP_GRACE_MS = 10_000;

const stats: AgentStats = { sent: 0, acked: 0, reconnects: 0, failures: new Map(), latency: new Histogram(), connected: [] };
const agents: LoadAgent[] = [];
const ramps = new Set<NodeJS.Timeout>();
let targets: CoordinatorState[] = [];
let settings: AgentSettings | null = null;
let reportTimer: NodeJS.Timeout | null = null;
let phase = 'idle';
let cpu = process.cpuUsage();

function send(message: FromWorker, then?: () => void): void {
  process.send?.(message, undefined, undefined, () => then?.());
}

function report(boundary: boolean, final: boolean, then?: () => void): void {
  const now = process.cpuUsage();
  send(
    {
      t: 'report',
      phase,
      connected: [...stats.connected],
      sent: stats.sent,
      acked: stats.acked,
      reconnects: stats.reconnects,
      failures: Object.fromEntries(stats.failures),
      latency: stats.latency.sparse(),
      latencyMax: stats.latency.max() ?? 0,
      rss: process.memoryUsage.rss(),
      cpuUs: now.user + now.system - cpu.user - cpu.system,
      boundary,
      final,
    },
    then,
  );
  cpu = now;
  stats.sent = 0;
  stats.acked = 0;
  stats.reconnects = 0;
  stats.failures.clear();
  stats.latency.clear();
}

/** Starts `count` agents at `perSec` a second, evenly spaced, round-robin over the coordinators from firstIndex. */
function add(count: number, firstIndex: number, perSec: number, agentSettings: AgentSettings): void {
  const t0 = performance.now();
  let done = 0;
  const step = (): void => {
    const due = Math.min(count, Math.floor(((performance.now() - t0) / 1000) * perSec) + 1);
    for (; done < due; done++) {
      const agent = new LoadAgent(targets[(firstIndex + done) % targets.length] as CoordinatorState, agentSettings);
      agents.push(agent);
      agent.start();
    }
    if (done < count) {
      const t = setTimeout(() => {
        ramps.delete(t);
        step();
      }, 10);
      ramps.add(t);
    }
  };
  step();
}

async function stop(): Promise<void> {
  for (const t of ramps) clearTimeout(t);
  if (reportTimer !== null) clearInterval(reportTimer);
  const closing = Promise.all(agents.map((a) => a.stop()));
  await Promise.race([closing, new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref())]);
  report(true, true, () => process.exit(0));
}

process.on('disconnect', () => process.exit(1));
process.on('message', (raw: ToWorker) => {
  switch (raw.t) {
    case 'start':
      targets = raw.coordinators.map((c, i) => new CoordinatorState(i, c.url, c.id));
      stats.connected = targets.map(() => 0);
      settings = { intervalMs: raw.intervalMs, stats };
      reportTimer = setInterval(() => report(false, false), raw.reportMs);
      send({ t: 'ready' });
      return;
    case 'add':
      if (settings !== null) add(raw.count, raw.firstIndex, raw.perSec, settings);
      return;
    case 'phase':
      report(true, false);
      phase = raw.name;
      return;
    case 'stop':
      void stop();
      return;
  }
});
