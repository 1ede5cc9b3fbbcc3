/**
 * fakeNvidiaSmiEnv({...}) → an environment whose PATH starts with a directory
 * holding an `nvidia-smi` that replays fixtures (test/helpers/fake-nvidia-smi.ts
 * documents every variable). Product code runs it as the real nvidia-smi:
 * pass the env to a child (runCli(args, { env })), or assign it to process.env
 * around an in-process call (withEnv) for code that spawns nvidia-smi itself.
 *
 *   const env = fakeNvidiaSmiEnv({ xml: nvidiaSmiFixture('tesla-t4_515.105.01_telegraf.xml') });
 *   const env = fakeNvidiaSmiEnv({ csv: nvidiaSmiFixture('h200-load_590.48.01_nvidia-gpu-exporter.csv'), dieAfter: 3 });
 *   const env = fakeNvidiaSmiEnv({ error: nvidiaSmiFixture('errors/no-driver.txt'), exitCode: 9 });
 *   const env = noNvidiaSmiEnv();   // nvidia-smi not on PATH at all
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SOURCE = fileURLToPath(new URL('./fake-nvidia-smi.ts', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/nvidia-smi/', import.meta.url));

export interface FakeNvidiaSmiOptions {
  /** `-q -x` output file. */
  xml?: string;
  /** `--query-gpu` capture (with header) to stream. */
  csv?: string;
  /** Stream the csv file's lines unchanged. */
  csvRaw?: boolean;
  /** Exit after this many telemetry lines ... */
  dieAfter?: number;
  /** ... with this status (default 1) ... */
  dieExit?: number;
  /** ... writing this on stderr. */
  dieMessage?: string;
  /** Every invocation prints this file and exits with exitCode (default 255). */
  error?: string;
  errorStream?: 'stdout' | 'stderr';
  exitCode?: number;
  /** Warning text on stderr before a successful answer. */
  stderr?: string;
  hangMs?: number;
  /** File that gets one JSON line per invocation ({pid, argv}). */
  log?: string;
}

/** Path of a file under test/fixtures/nvidia-smi/. */
export function nvidiaSmiFixture(name: string): string {
  return join(FIXTURES, name);
}

function publish(target: string, content: string, mode: number): void {
  if (existsSync(target)) return;
  const partial = `${target}.${process.pid}.tmp`;
  writeFileSync(partial, content);
  chmodSync(partial, mode);
  renameSync(partial, target);
}

/** The directory holding the compiled fake and its `nvidia-smi` wrapper (built once per source version). */
export function fakeNvidiaSmiDir(): string {
  const source = readFileSync(SOURCE, 'utf8');
  const hash = createHash('sha256').update(source).update(process.execPath).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `capanode-fake-nvidia-smi-${hash}`);
  mkdirSync(dir, { recursive: true });
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  publish(join(dir, 'fake-nvidia-smi.mjs'), js, 0o644);
  publish(join(dir, 'nvidia-smi'), `#!/bin/sh\nexec '${process.execPath}' '${join(dir, 'fake-nvidia-smi.mjs')}' "$@"\n`, 0o755);
  return dir;
}

function baseEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(base).filter(([k]) => !k.startsWith('FAKE_NVIDIA_SMI_')));
}

export function fakeNvidiaSmiEnv(options: FakeNvidiaSmiOptions = {}, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = baseEnv(base);
  const set = (k: string, v: string | number | undefined): void => {
    if (v !== undefined) env[`FAKE_NVIDIA_SMI_${k}`] = String(v);
  };
  set('XML', options.xml);
  set('CSV', options.csv);
  set('CSV_RAW', options.csvRaw === true ? 1 : undefined);
  set('DIE_AFTER', options.dieAfter);
  set('DIE_EXIT', options.dieExit);
  set('DIE_MESSAGE', options.dieMessage);
  set('ERROR', options.error);
  set('ERROR_STREAM', options.errorStream);
  set('EXIT', options.exitCode);
  set('STDERR', options.stderr);
  set('HANG_MS', options.hangMs);
  set('LOG', options.log);
  env['PATH'] = [fakeNvidiaSmiDir(), base['PATH'] ?? ''].filter((p) => p !== '').join(delimiter);
  return env;
}

/** An environment where no nvidia-smi can be found: PATH is one empty directory. */
export function noNvidiaSmiEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = baseEnv(base);
  const empty = join(tmpdir(), 'capanode-empty-path');
  mkdirSync(empty, { recursive: true });
  env['PATH'] = empty;
  return env;
}

/** Runs fn with process.env replaced by env, restoring it afterwards (for in-process probes). */
export async function withEnv<T>(env: NodeJS.ProcessEnv, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (!(k in env)) Reflect.deleteProperty(process.env, k);
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) Reflect.deleteProperty(process.env, k);
    Object.assign(process.env, saved);
  }
}
