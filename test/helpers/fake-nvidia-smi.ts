/**
 * A stand-in for `nvidia-smi` that replays real outputs (test/fixtures/nvidia-smi/).
 * Not imported by tests: fakeNvidiaSmiEnv() (fake-nvidia-smi-env.ts) compiles
 * this file to plain JS and puts an `nvidia-smi` wrapper first on PATH, so the
 * product code runs it exactly as it would run the real one. It uses only
 * node: builtins so the compiled file runs on its own.
 *
 * Driven by environment variables (all optional):
 *   FAKE_NVIDIA_SMI_XML=FILE       `-q -x` prints FILE and exits 0.
 *   FAKE_NVIDIA_SMI_CSV=FILE       `--query-gpu=F1,F2 --format=csv[,noheader][,nounits] [-lms N|-l S]`:
 *                                  FILE is a `--format=csv` capture WITH its header line; the
 *                                  requested fields are picked by header name (a field not in the
 *                                  header answers `Field "x" is not a valid field to query.`, exit 2,
 *                                  as nvidia-smi does) and units stripped for nounits. Data rows are
 *                                  replayed in rounds (a round ends where a UUID repeats), one round
 *                                  per interval, cycling; without -lms/-l one round, then exit 0.
 *   FAKE_NVIDIA_SMI_CSV_RAW=1      stream FILE's lines as they are (no header, no mapping): for
 *                                  malformed or truncated lines.
 *   FAKE_NVIDIA_SMI_DIE_AFTER=N    in a loop, exit after N data lines ...
 *   FAKE_NVIDIA_SMI_DIE_EXIT=CODE  ... with this status (default 1) ...
 *   FAKE_NVIDIA_SMI_DIE_MESSAGE=T  ... after writing T on stderr.
 *   FAKE_NVIDIA_SMI_ERROR=FILE     any invocation prints FILE and exits FAKE_NVIDIA_SMI_EXIT (default 255).
 *   FAKE_NVIDIA_SMI_ERROR_STREAM=stderr   print it on stderr instead of stdout (nvidia-smi uses stdout).
 *   FAKE_NVIDIA_SMI_EXIT=CODE      without FAKE_NVIDIA_SMI_ERROR: exit CODE having printed nothing.
 *   FAKE_NVIDIA_SMI_STDERR=TEXT    write TEXT on stderr before a successful answer (driver warnings).
 *   FAKE_NVIDIA_SMI_HANG_MS=MS     wait MS before doing anything (a hung driver).
 *   FAKE_NVIDIA_SMI_LOG=FILE       append one JSON line per invocation: {"pid":..,"argv":[...]}.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const env = process.env;
const args = process.argv.slice(2);

function fail(message: string, code: number): never {
  process.stdout.write(`${message}\n`);
  process.exit(code);
}

function write(line: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(`${line}\n`)) resolve();
    else process.stdout.once('drain', () => resolve());
  });
}

function argValue(name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function loopMs(): number | null {
  const lms = argValue('-lms') ?? argValue('--loop-ms');
  if (lms !== undefined) return Number(lms);
  const ls = argValue('-l') ?? argValue('--loop');
  return ls === undefined ? null : Number(ls) * 1000;
}

/** Rows of a header'd `--format=csv` capture, as the requested fields. */
function csvRounds(file: string, fields: string[], nounits: boolean): { header: string; rounds: string[][] } {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const names = header.map((h) => h.replace(/\s*\[[^\]]*\]$/, ''));
  const units = header.map((h) => /\[([^\]]*)\]$/.exec(h)?.[1] ?? null);
  const cols = fields.map((f) => {
    const i = names.indexOf(f);
    if (i < 0) fail(`Field "${f}" is not a valid field to query.\n`, 2);
    return i;
  });
  const uuidCol = names.indexOf('uuid');
  const rounds: string[][] = [];
  let round: string[] = [];
  let seen = new Set<string>();
  for (const line of lines.slice(1)) {
    const values = line.split(',').map((v) => v.trim());
    const uuid = uuidCol >= 0 ? (values[uuidCol] ?? '') : '';
    if (seen.has(uuid)) {
      rounds.push(round);
      round = [];
      seen = new Set();
    }
    seen.add(uuid);
    round.push(
      cols
        .map((c) => {
          const v = values[c] ?? '';
          const unit = units[c];
          return nounits && unit !== null && unit !== undefined && v.endsWith(` ${unit}`) ? v.slice(0, -unit.length - 1) : v;
        })
        .join(', '),
    );
  }
  if (round.length > 0) rounds.push(round);
  return { header: fields.map((f, i) => header[cols[i] as number] ?? f).join(', '), rounds };
}

async function query(spec: string): Promise<void> {
  const file = env['FAKE_NVIDIA_SMI_CSV'];
  if (file === undefined) fail('fake nvidia-smi: FAKE_NVIDIA_SMI_CSV is not set', 2);
  const format = argValue('--format') ?? (args.find((a) => a.startsWith('--format='))?.slice('--format='.length) ?? '');
  const opts = format.split(',');
  let rounds: string[][];
  if (env['FAKE_NVIDIA_SMI_CSV_RAW'] === '1') {
    rounds = [readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')];
  } else {
    const r = csvRounds(file, spec.split(','), opts.includes('nounits'));
    if (!opts.includes('noheader')) await write(r.header);
    rounds = r.rounds;
  }
  const interval = loopMs();
  const dieAfter = env['FAKE_NVIDIA_SMI_DIE_AFTER'] === undefined ? Infinity : Number(env['FAKE_NVIDIA_SMI_DIE_AFTER']);
  let written = 0;
  for (let i = 0; ; i++) {
    for (const line of rounds[i % Math.max(1, rounds.length)] ?? []) {
      if (written >= dieAfter) {
        if (env['FAKE_NVIDIA_SMI_DIE_MESSAGE'] !== undefined) process.stderr.write(`${env['FAKE_NVIDIA_SMI_DIE_MESSAGE']}\n`);
        process.exit(Number(env['FAKE_NVIDIA_SMI_DIE_EXIT'] ?? '1'));
      }
      await write(line);
      written++;
    }
    if (interval === null) return;
    await sleep(interval);
  }
}

async function main(): Promise<void> {
  if (env['FAKE_NVIDIA_SMI_LOG'] !== undefined) appendFileSync(env['FAKE_NVIDIA_SMI_LOG'], `${JSON.stringify({ pid: process.pid, argv: args })}\n`);
  if (env['FAKE_NVIDIA_SMI_HANG_MS'] !== undefined) await sleep(Number(env['FAKE_NVIDIA_SMI_HANG_MS']));
  const errorFile = env['FAKE_NVIDIA_SMI_ERROR'];
  if (errorFile !== undefined) {
    const text = readFileSync(errorFile, 'utf8');
    (env['FAKE_NVIDIA_SMI_ERROR_STREAM'] === 'stderr' ? process.stderr : process.stdout).write(text);
    process.exit(Number(env['FAKE_NVIDIA_SMI_EXIT'] ?? '255'));
  }
  if (env['FAKE_NVIDIA_SMI_EXIT'] !== undefined) process.exit(Number(env['FAKE_NVIDIA_SMI_EXIT']));
  if (env['FAKE_NVIDIA_SMI_STDERR'] !== undefined) process.stderr.write(`${env['FAKE_NVIDIA_SMI_STDERR']}\n`);
  const spec = args.find((a) => a.startsWith('--query-gpu='));
  if (spec !== undefined) {
    await query(spec.slice('--query-gpu='.length));
    return;
  }
  if (args.includes('-q') && args.includes('-x')) {
    const xml = env['FAKE_NVIDIA_SMI_XML'];
    if (xml === undefined) fail('fake nvidia-smi: FAKE_NVIDIA_SMI_XML is not set', 2);
    process.stdout.write(readFileSync(xml));
    return;
  }
  fail(`fake nvidia-smi: unsupported arguments ${JSON.stringify(args)}`, 2);
}

await main();
