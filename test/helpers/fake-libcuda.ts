import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('./fake-libcuda.c', import.meta.url));

export type FakeCudaMode = 'ok' | 'no-device' | 'driver-mismatch' | 'stub-library' | 'init-unknown' | 'old-driver' | 'ptx-too-new' | 'oom' | 'hang' | 'zero-devices';

function cacheDir(): string {
  const source = readFileSync(SOURCE);
  return join(tmpdir(), `capanode-fake-libcuda-${createHash('sha256').update(source).digest('hex').slice(0, 16)}`);
}

/** Writes `target` atomically: test files in parallel forks may race to make it. */
function publish(target: string, make: (partial: string) => void): void {
  if (existsSync(target)) return;
  const partial = `${target}.${process.pid}.tmp`;
  make(partial);
  renameSync(partial, target);
}

/**
 * Builds test/helpers/fake-libcuda.c into a shared library (once per source
 * version, cached under the OS temp dir) and returns its path. Needs a C
 * compiler, as building the addon does.
 */
export function buildFakeLibcuda(): string {
  const dir = cacheDir();
  const lib = join(dir, 'libcuda.so.1');
  mkdirSync(dir, { recursive: true });
  publish(lib, (partial) => execFileSync(process.env['CC'] ?? 'cc', ['-shared', '-fPIC', '-O2', '-Wall', '-Werror', '-o', partial, SOURCE], { stdio: 'pipe' }));
  return lib;
}

/**
 * A copy of the fake library for one (mode, cc): the addon keeps one driver
 * state per library path (initialised once, devices and hung flags cached),
 * as it does for the one real driver, so each variant gets its own path.
 */
export function fakeLibcudaPath(mode: FakeCudaMode, cc = '9.0'): string {
  const lib = buildFakeLibcuda();
  const dir = join(cacheDir(), `${mode}-${cc}`);
  mkdirSync(dir, { recursive: true });
  const copy = join(dir, 'libcuda.so.1');
  publish(copy, (partial) => copyFileSync(lib, partial));
  return copy;
}

/** Runs fn with the fake driver selected, in `mode` and with compute capability `cc`, restoring the environment afterwards. */
export async function withFakeCuda<T>(mode: FakeCudaMode, fn: () => Promise<T>, cc = '9.0'): Promise<T> {
  const saved = { lib: process.env['CAPANODE_LIBCUDA'], mode: process.env['CAPANODE_FAKE_CUDA'], cc: process.env['CAPANODE_FAKE_CUDA_CC'] };
  process.env['CAPANODE_LIBCUDA'] = fakeLibcudaPath(mode, cc);
  process.env['CAPANODE_FAKE_CUDA'] = mode;
  process.env['CAPANODE_FAKE_CUDA_CC'] = cc;
  try {
    return await fn();
  } finally {
    restore('CAPANODE_LIBCUDA', saved.lib);
    restore('CAPANODE_FAKE_CUDA', saved.mode);
    restore('CAPANODE_FAKE_CUDA_CC', saved.cc);
  }
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) Reflect.deleteProperty(process.env, name);
  else process.env[name] = value;
}
