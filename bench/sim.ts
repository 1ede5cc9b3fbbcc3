import { buildReport, DEFAULT_MIX, simulate, type ChallengeSchedule } from '../coordinator/sim/index.js';
import { goal, type BenchSuite } from './suite.js';

/**
 * sim.nodeEpochsPerSec: identities paid per second by the simulator driving the real reward
 * engine, on the CLI's default run (1000 operators, 168 epochs, default mix, windowed challenge
 * rounds as the reference coordinator runs them). The same run gives each adversarial strategy's
 * gain (earnings per unit of real contribution relative to honest nodes, rounded to 4 places: the
 * neutral strategies sit within 1e-6 of 1 from micro-credit rounding) and the conservation error.
 *
 * multiplexGain shows the one strategy that depends on how the coordinator schedules and credits
 * challenges (one GPU behind 2-4 identities, 500 operators of which 20% multiplex, 168 epochs):
 * `windowed` is what the coordinator does (coordinator/pot: network-wide rounds, work over the
 * window), `rounds` and `independent` the alternatives. Under `windowed` all sharers could reach for
 * is the margin each challenge leaves in its window, and reaching for it costs them more than it
 * brings (docs/INCENTIVES.md §8): multiplexWindowedByEpochs shows the gain over shorter runs.
 */
export const simSuite: BenchSuite = {
  name: 'sim',
  run() {
    simulate({ nodes: 100, epochs: 12, seed: 2, mix: DEFAULT_MIX }); // warm-up
    const t0 = process.hrtime.bigint();
    const run = simulate({ nodes: 1000, epochs: 168, seed: 1, mix: DEFAULT_MIX });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const report = buildReport(run);
    const gains: Record<string, unknown> = {};
    for (const s of report.strategies) if (s.strategy !== 'honest' && s.gain !== null) gains[s.strategy] = goal(s.gain, '<=', 1);
    const multiplex = (schedule: ChallengeSchedule, epochs: number): number | null =>
      buildReport(simulate({ nodes: 500, epochs, seed: 1, mix: { honest: 0.8, multiplex: 0.2 }, schedule })).strategies.find((s) => s.strategy === 'multiplex')?.gain ?? null;
    const windowed = multiplex('windowed', 168);
    const multiplexWindowedByEpochs: Record<string, number | null> = {};
    for (const epochs of [24, 48]) multiplexWindowedByEpochs[String(epochs)] = multiplex('windowed', epochs);
    return Promise.resolve({
      nodeEpochsPerSec: goal(Math.round(run.nodeEpochs / seconds), '>=', 10_000),
      nodeEpochs: run.nodeEpochs,
      seconds: Math.round(seconds * 100) / 100,
      gain: gains,
      maxAdversarialGain: goal(report.maxAdversarialGain ?? 0, '<=', 1),
      conservationError: goal(report.conservationError, '<=', 0),
      multiplexGain: {
        windowed: windowed === null ? null : goal(windowed, '<=', 1),
        rounds: multiplex('rounds', 168),
        independent: multiplex('independent', 168),
      },
      multiplexWindowedByEpochs,
    });
  },
};
