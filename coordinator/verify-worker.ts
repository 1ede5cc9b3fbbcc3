/**
 * Worker thread of verify-pool.ts: analyses att frames (JSON, schema,
 * canonical form, signatures) and recomputes PoT rows with the TypeScript
 * reference when the native addon is not there, off the event loop.
 * Holds no state between tasks; an exception is returned, never thrown.
 */
import { parentPort } from 'node:worker_threads';
import { analyseFrameBytes } from './frame.js';
import { computeCheckDigests } from '../proofs/pot.js';
import type { PoolReply, PoolTask } from './verify-pool.js';

const port = parentPort;
if (port === null) throw new Error('verify-worker.js runs only as a worker thread of the coordinator');

function run(task: PoolTask): PoolReply {
  try {
    if (task.kind === 'frame') return { id: task.id, ok: true, result: analyseFrameBytes(task.frame) };
    const digests = computeCheckDigests(task.seed, task.n, task.checks);
    return { id: task.id, ok: true, result: digests };
  } catch (e) {
    return { id: task.id, ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

port.on('message', (task: PoolTask) => {
  port.postMessage(run(task));
});
