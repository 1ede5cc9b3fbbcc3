/**
 * `npm run bench:load -- --agents N --coordinators C [--store URL] [--duration S] [--interval S] [--max]`
 *
 * The coordinator load test (issue #10): lightweight simulated agents, each
 * a real protocol client with its own key (agent.ts), spread over worker
 * processes, against C real `capanode-coordinator serve` processes sharing
 * one store. Prints one JSON document on stdout, as `npm run bench` does;
 * progress goes to stderr. docs/OPERATIONS.md says how to read it.
 */
import { cpus } from 'node:os';
import { runProgram } from '../../common/cli.js';
import { runHold } from './hold.js';
import { checkLimits } from './limits.js';
import { runMax } from './max.js';
import { loadProgram, type LoadOptions } from './options.js';
import { withRig } from './rig.js';

async function main(o: LoadOptions): Promise<void> {
  checkLimits(o.agents, o.coordinators, o.workers);
  const startedAt = new Date().toISOString();
  const load = await withRig(o, (rig) => (o.mode === 'max' ? runMax(o, rig) : runHold(o, rig)));
  const report = { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: cpus().length, startedAt, load };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

await runProgram(loadProgram(main));
