/** `capanode bench` and `capanode bench pot`: local figures, and a PoT answer computed here. */
import { InvalidArgumentError, type Command } from 'commander';
import { action, printJson } from '../../common/cli.js';
import { CapanodeError } from '../../common/errors.js';
import { encodeRevealItems, POT_DIGEST_BYTES, type PotCheck } from '../../proofs/pot.js';
import { answerPot, nativeBackend, runLocalBench, type BenchReport, type DeviceBench, type DeviceChoice } from '../bench/index.js';
import { withCommonOptions, type CommonOptions } from './options.js';

interface BenchOptions extends CommonOptions {
  quick?: boolean;
  device?: DeviceChoice;
}

interface PotOptions extends CommonOptions {
  seed: string;
  n: number;
  reps: number;
  device?: DeviceChoice;
  reveal?: PotCheck[];
  timeout?: number;
}

export function parseDevice(value: string): DeviceChoice {
  if (value === 'cpu') return 'cpu';
  if (/^\d{1,4}$/.test(value)) return Number(value);
  throw new InvalidArgumentError('expected "cpu" or a GPU number (0, 1, ...)');
}

function positiveInt(value: string): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

/** "r:i,r:i" → [[r, i], ...] */
export function parseChecks(value: string): PotCheck[] {
  return value.split(',').map((pair) => {
    const m = /^(\d{1,9}):(\d{1,9})$/.exec(pair.trim());
    if (m === null) throw new InvalidArgumentError(`"${pair}" is not r:i (rep and row, e.g. 0:17)`);
    return [Number(m[1]), Number(m[2])] as const;
  });
}

const fmt = (v: number): string => v.toLocaleString('en-US');

function line(label: string, value: number | null, unit: string, spec?: { percent: number | null; of: number }): string {
  if (value === null) return '';
  const base = `  ${label.padEnd(18)}${fmt(value).padStart(12)} ${unit}`;
  return spec === undefined || spec.percent === null ? `${base}\n` : `${base.padEnd(41)} ${`${spec.percent}%`.padStart(6)} of ${fmt(spec.of)}\n`;
}

function renderDevice(d: DeviceBench): string {
  const head = d.kind === 'gpu' ? `GPU ${d.ordinal ?? ''}  ${d.name}  ${d.device}` : `CPU  ${d.name}`;
  const how = Object.entries(d.method)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ');
  const p = d.percentOfSpec;
  const s = d.spec;
  return (
    `${head}\n  (${how}${s === null ? (d.kind === 'gpu' ? '; no spec on file for this model' : '') : `; spec: ${s.model}`})\n` +
    line('memory bandwidth', d.local.memBwMBps, 'MB/s', s === null || p === null ? undefined : { percent: p.memBw, of: s.memBwMBps }) +
    line('FP32', d.local.fp32Gflops, 'GFLOP/s', s === null || p === null ? undefined : { percent: p.fp32, of: s.fp32Gflops }) +
    line('FP16 tensor', d.local.tensorGflops, 'GFLOP/s', s === null || p === null ? undefined : { percent: p.tensor, of: s.tensorGflops }) +
    line('host to device', d.local.h2dMBps, 'MB/s') +
    line('device to host', d.local.d2hMBps, 'MB/s') +
    line('SM clock', d.smClockMhz, 'MHz')
  );
}

export function renderBenchReport(report: BenchReport): string {
  let out = report.devices.map(renderDevice).join('\n');
  if (!report.gpu.available) out += `\nGPUs not used: ${report.gpu.message}\n${report.gpu.hint === null ? '' : `  hint: ${report.gpu.hint}\n`}`;
  return out;
}

function seedOf(hex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new CapanodeError('bad-input', '--seed must be 64 lowercase hex characters (32 bytes)', { hint: 'pass the challenge seed as it appears on the wire' });
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** The first GPU when one can be used, else the CPU. */
async function defaultDevice(): Promise<DeviceChoice> {
  if (nativeBackend.loadError() !== undefined) return 'cpu';
  try {
    return (await nativeBackend.listGpus()).devices.length > 0 ? 0 : 'cpu';
  } catch {
    return 'cpu';
  }
}

export function registerBenchCommands(program: Command): void {
  // `bench --json` and `bench pot --json` both exist: options after a subcommand must go to it, which
  // commander only does with positional options on every ancestor (program options then come first).
  program.enablePositionalOptions();
  const bench = withCommonOptions(
    program
      .command('bench')
      .description('measure memory bandwidth, FP32, FP16 tensor throughput and host copies of each GPU (or the CPU)')
      .option('--quick', 'smaller sizes, fewer repetitions')
      .option('--device <cpu|N>', 'one device: "cpu" or a GPU number', parseDevice)
      .option('--json', 'print JSON'),
  )
    .enablePositionalOptions()
    .action(
    action(async (opts: BenchOptions) => {
      const report = await runLocalBench({ quick: opts.quick === true, ...(opts.device === undefined ? {} : { device: opts.device }) });
      if (opts.json === true) printJson(report);
      else process.stdout.write(renderBenchReport(report));
    }),
  );

  withCommonOptions(
    bench
      .command('pot')
      .description('compute a Proof of Throughput answer here: its root, time and, with --reveal, rows with their audit paths')
      .requiredOption('--seed <hex>', 'challenge seed, 64 hex characters')
      .requiredOption('--n <n>', 'matrix size (a multiple of 64 in [64, 4096]; smaller only for test vectors)', positiveInt)
      .requiredOption('--reps <reps>', 'repetitions', positiveInt)
      .option('--device <cpu|N>', 'compute on "cpu" or a GPU number (default: GPU 0 when there is one)', parseDevice)
      .option('--reveal <r:i,...>', 'reveal these rows (rep:row, comma separated)', parseChecks)
      .option('--timeout <ms>', 'GPU: give up (and report the GPU hung) after this long', positiveInt)
      .option('--json', 'print JSON'),
  ).action(
    action(async (opts: PotOptions) => {
      const seed = seedOf(opts.seed);
      for (const [r, i] of opts.reveal ?? []) {
        if (r >= opts.reps || i >= opts.n) {
          throw new CapanodeError('bad-input', `--reveal ${r}:${i} is outside ${opts.reps} reps × ${opts.n} rows`, { hint: 'reveal rows with r < reps and i < n' });
        }
      }
      const device = opts.device ?? (await defaultDevice());
      const answer = await answerPot({
        seed,
        n: opts.n,
        reps: opts.reps,
        device,
        allowTinyN: true,
        ...(opts.timeout === undefined ? {} : { timeoutMs: opts.timeout }),
      });
      if (answer.fallbackReason !== undefined) process.stderr.write(`capanode: native addon unavailable, computed in TypeScript (${answer.fallbackReason})\n`);
      await answer.selfCheck();
      const doc: Record<string, unknown> = {
        root: Buffer.from(answer.root).toString('hex'),
        elapsedUs: answer.elapsedUs,
        device: answer.device,
        gflops: Math.round(answer.gflops * 1000) / 1000,
        backend: answer.backend,
        kernel: answer.kernel,
        smClockMhz: answer.smClockMhz === null ? null : Math.round(answer.smClockMhz),
      };
      if (opts.reveal !== undefined) {
        const items = encodeRevealItems(await answer.reveal(opts.reveal));
        doc['reveal'] = opts.reveal.map(([r, i]) => {
          const item = items.find((x) => x.r === r);
          const digests = Buffer.from(item?.digests ?? '', 'base64');
          return { r, i, digest: digests.subarray(i * POT_DIGEST_BYTES, (i + 1) * POT_DIGEST_BYTES).toString('hex'), path: item?.path ?? [] };
        });
      }
      if (opts.json === true) {
        printJson(doc);
        return;
      }
      let text = `root      ${String(doc['root'])}\nelapsed   ${fmt(answer.elapsedUs)} us\ndevice    ${answer.device} (${answer.kernel})\nthroughput ${String(doc['gflops'])} GFLOP/s\n`;
      for (const row of (doc['reveal'] as { r: number; i: number; digest: string; path: string[] }[] | undefined) ?? []) {
        text += `rep ${row.r} row ${row.i}: digest ${row.digest}\n${row.path.map((h) => `  ${h}\n`).join('')}`;
      }
      process.stdout.write(text);
    }),
  );
}
