/**
 * The always-allowed kinds, run inside the agent through agent/bench:
 * `pot` computes a Proof of Throughput for the given seed (its digest is
 * the SHA-256 of the root's hex, the same on every honest node, so the
 * coordinator can run it twice and compare), `bench` runs the local
 * benchmark (not deterministic: no digest). Neither can be killed mid-run;
 * a cancel abandons the result.
 */
import { createHash } from 'node:crypto';
import { describeError } from '../../common/errors.js';
import { toHex } from '../../proofs/keys.js';
import { answerPot, runLocalBench } from '../bench/index.js';
import type { Backend, Execution, ExecutionResult } from './backend.js';

function abandonable(work: Promise<ExecutionResult>): Execution {
  let abandon: (r: ExecutionResult) => void = () => undefined;
  const abandoned = new Promise<ExecutionResult>((resolve) => (abandon = resolve));
  return {
    pid: null,
    startTime: null,
    done: Promise.race([work, abandoned]),
    kill: () => {
      abandon({ exitCode: null, outputSha256: null, error: null });
      return Promise.resolve();
    },
  };
}

export const potBackend: Backend<Extract<Parameters<Backend>[0], { workload: 'pot' }>> = (spec, ctx) =>
  abandonable(
    answerPot({ seed: Buffer.from(spec.seed, 'hex'), n: spec.n, reps: spec.reps, device: ctx.device.index }).then(
      (a) => ({ exitCode: 0, outputSha256: createHash('sha256').update(toHex(a.root)).digest('hex'), error: null }),
      (e: unknown) => ({ exitCode: null, outputSha256: null, error: `PoT failed: ${describeError(e)}` }),
    ),
  );

export const benchBackend: Backend<Extract<Parameters<Backend>[0], { workload: 'bench' }>> = (spec) =>
  abandonable(
    runLocalBench({ quick: spec.quick }).then(
      () => ({ exitCode: 0, outputSha256: null, error: null }),
      (e: unknown) => ({ exitCode: null, outputSha256: null, error: `benchmark failed: ${describeError(e)}` }),
    ),
  );
