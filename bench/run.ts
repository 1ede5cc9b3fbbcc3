/**
 * `npm run bench`: runs every benchmark suite in one process and prints one
 * JSON document on stdout. Ratios are measured side by side in the same run,
 * so a noisy shared machine moves both sides together.
 *
 * Usage: node dist/bench/run.js [suite ...]   (default: all suites)
 */
import { suites } from './suites.js';

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !suites.some((s) => s.name === w));
if (unknown.length > 0) {
  process.stderr.write(`unknown suite(s): ${unknown.join(', ')}; known: ${suites.map((s) => s.name).join(', ')}\n`);
  process.exit(2);
}

const report: Record<string, unknown> = {
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  cpus: (await import('node:os')).cpus().length,
  startedAt: new Date().toISOString(),
};
for (const suite of suites) {
  if (wanted.length > 0 && !wanted.includes(suite.name)) continue;
  process.stderr.write(`bench: ${suite.name}...\n`);
  try {
    report[suite.name] = await suite.run();
  } catch (e) {
    report[suite.name] = { error: e instanceof Error ? e.message : String(e) };
    process.exitCode = 1;
  }
}
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
