/**
 * Answers the coordinator's PoT challenges through agent/bench: on the GPU
 * when there is one (the native addon's mma.sync/WMMA kernel), else on the
 * CPU. Every computation runs off the event loop, so uptime attestations and
 * the link keep going while a challenge runs.
 */
import type { Logger } from '../../common/log.js';
import { toHex } from '../../proofs/keys.js';
import type { Challenge } from '../../proofs/messages.js';
import { answerPot } from '../bench/index.js';
import type { PotSolution, PotSolver } from '../link/index.js';

export function benchPotSolver(options: { device: () => 'cpu' | number; logger: Logger; onAnswer?: (a: { gflops: number; device: string; backend: string }) => void }): PotSolver {
  return {
    async solve(challenge: Challenge, signal: AbortSignal): Promise<PotSolution> {
      const answer = await answerPot({ seed: Buffer.from(challenge.seed, 'hex'), n: challenge.n, reps: challenge.reps, device: options.device(), timeoutMs: challenge.deadlineMs });
      if (signal.aborted) throw new Error('challenge abandoned: the session ended');
      options.onAnswer?.({ gflops: answer.gflops, device: answer.device, backend: answer.backend });
      if (answer.fallbackReason !== undefined) options.logger.warn({ reason: answer.fallbackReason }, 'PoT answered in TypeScript: the native addon is not available');
      // The GPU self-check recomputes a few rows on the CPU; after the commit it costs no score.
      setImmediate(() => {
        answer.selfCheck().catch((err: unknown) => options.logger.error({ err }, 'the GPU failed its PoT self-check'));
      });
      return { root: toHex(answer.root), elapsedUs: answer.elapsedUs, device: answer.device, reveal: (checks) => answer.reveal(checks) };
    },
  };
}
