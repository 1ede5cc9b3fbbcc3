/**
 * What the load generator's parent and its worker processes say to each
 * other over the fork IPC channel (JSON). The parent starts the workers,
 * hands each a block of agents to connect at a given rate and names the
 * phase under way; each worker reports every second what happened since its
 * last report, labelled with the phase it happened in.
 */
import type { SparseCounts } from './histogram.js';

export interface CoordinatorTarget {
  url: string;
  /** The coordinator's public key: agents pin it and check the hello's signature. */
  id: string;
}

export type ToWorker =
  | { t: 'start'; coordinators: CoordinatorTarget[]; intervalMs: number; reportMs: number }
  /** Connect `count` more agents, `perSec` a second; agent k of them goes to coordinator (firstIndex + k) mod C. */
  | { t: 'add'; count: number; firstIndex: number; perSec: number }
  /** What happens from now on is counted under this phase (the worker reports what came before first). */
  | { t: 'phase'; name: string }
  /** Close every connection, send a last report and exit. */
  | { t: 'stop' };

export interface WorkerReport {
  t: 'report';
  phase: string;
  /** Agents authenticated now, by coordinator index. */
  connected: number[];
  /** Since the last report: */
  sent: number;
  acked: number;
  reconnects: number;
  failures: Record<string, number>;
  latency: SparseCounts;
  latencyMax: number;
  /** The worker's resident memory (bytes) and CPU time used since the last report (µs). */
  rss: number;
  cpuUs: number;
  /** The last report of its phase (sent when the parent names the next one). */
  boundary: boolean;
  /** The last report: every connection is closed and the worker exits. */
  final: boolean;
}

export type FromWorker = { t: 'ready' } | WorkerReport;
