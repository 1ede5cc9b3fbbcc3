import { describe, expect, it } from 'vitest';
import { hashLeaf, verifyInclusion } from '../../../proofs/merkle.js';
import { computeRep, repHash } from '../../../proofs/pot.js';
import { runCli } from '../../helpers/cli.js';
import { fakeLibcudaPath } from '../../helpers/fake-libcuda.js';

// DESIGN §6 known-answer vector.
const SEED = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const ROOT = '90f6ae7a368b1393d623ed098ddc7cbbdcd21e82e8cac95ebfa2048b5f2fc97c';
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

describe('capanode bench pot', () => {
  it('prints the known-answer root and reveals rows with audit paths', async () => {
    const r = await runCli(['bench', 'pot', '--seed', SEED, '--n', '8', '--reps', '3', '--device', 'cpu', '--reveal', '0:0,2:7', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { root: string; device: string; elapsedUs: number; gflops: number; reveal: { r: number; i: number; digest: string; path: string[] }[] };
    expect(doc).toMatchObject({ root: ROOT, device: 'cpu' });
    expect(Number.isInteger(doc.elapsedUs)).toBe(true);
    expect(doc.gflops).toBeGreaterThanOrEqual(0);
    expect(doc.reveal.map((x) => [x.r, x.i])).toEqual([
      [0, 0],
      [2, 7],
    ]);
    expect(doc.reveal[0]!.digest).toBe('ca71487dfc3caf9a');
    // The printed path leads from rep 2's hash to the root.
    const leafHash = hashLeaf(repHash(2, computeRep(fromHex(SEED), 8, 2)));
    expect(verifyInclusion({ leafHash, index: 2, size: 3, path: doc.reveal[1]!.path.map(fromHex), root: fromHex(ROOT) })).toEqual({ ok: true });
  });

  it('computes on a GPU (a test driver here) and the reveal proves inclusion', async () => {
    const env = { CAPANODE_LIBCUDA: fakeLibcudaPath('ok'), CAPANODE_FAKE_CUDA: 'ok' };
    const cpu = await runCli(['bench', 'pot', '--seed', SEED, '--n', '64', '--reps', '3', '--device', 'cpu', '--json']);
    const gpu = await runCli(['bench', 'pot', '--seed', SEED, '--n', '64', '--reps', '3', '--reveal', '1:2', '--json'], { env });
    expect(gpu.code).toBe(0);
    const g = JSON.parse(gpu.stdout) as { root: string; device: string; kernel: string; reveal: { digest: string; path: string[] }[] };
    expect(g.root).toBe((JSON.parse(cpu.stdout) as { root: string }).root);
    expect(g).toMatchObject({ device: 'GPU-5f5fa2a3-6d4b-2b1c-9a4c-2a3bb5a0e8e1', kernel: 'mma.sync' });
    expect(g.reveal[0]!.path).toHaveLength(2);
  });

  it('names bad input and usage errors', async () => {
    const badSeed = await runCli(['bench', 'pot', '--seed', 'zz', '--n', '64', '--reps', '1', '--device', 'cpu']);
    expect(badSeed.code).toBe(1);
    expect(badSeed.stderr).toMatch(/--seed must be 64 lowercase hex/);
    const badDevice = await runCli(['bench', 'pot', '--seed', SEED, '--n', '64', '--reps', '1', '--device', 'gpu0']);
    expect(badDevice.code).toBe(2);
    const badReveal = await runCli(['bench', 'pot', '--seed', SEED, '--n', '64', '--reps', '1', '--device', 'cpu', '--reveal', '1:0']);
    expect(badReveal.code).toBe(1);
    expect(badReveal.stderr).toMatch(/outside 1 reps/);
  });
});

describe('capanode bench', () => {
  it('benchmarks the CPU, and says why no GPU was used', async () => {
    const r = await runCli(['bench', '--quick', '--json'], { env: { CAPANODE_LIBCUDA: '/nonexistent/libcuda.so.1' } });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { devices: { device: string; local: Record<string, number | null> }[]; gpu: { available: boolean; reason: string } };
    expect(doc.devices.map((d) => d.device)).toEqual(['cpu']);
    expect(doc.devices[0]!.local['memBwMBps']).toBeGreaterThan(0);
    expect(doc.gpu).toMatchObject({ available: false, reason: 'driver-not-found' });
  });

  it('prints a table with the spec share for a known GPU', async () => {
    const r = await runCli(['bench', '--quick', '--device', '0'], { env: { CAPANODE_LIBCUDA: fakeLibcudaPath('ok'), CAPANODE_FAKE_CUDA: 'ok' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^GPU 0 {2}NVIDIA H100 80GB HBM3 {2}GPU-5f5fa2a3/);
    expect(r.stdout).toMatch(/memory bandwidth .* MB\/s .*% of 3,350,000/);
    expect(r.stdout).toMatch(/spec: H100 SXM/);
  });

  it('fails with exit 1 and a JSON error when the GPU asked for is unavailable', async () => {
    const r = await runCli(['bench', '--device', '0', '--json'], { env: { CAPANODE_LIBCUDA: fakeLibcudaPath('ptx-too-new'), CAPANODE_FAKE_CUDA: 'ptx-too-new' } });
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; details: { reason: string; call: string; cuResult: string } } };
    expect(doc.error).toMatchObject({ code: 'native-unavailable', details: { reason: 'ptx-unsupported', call: 'cuModuleLoadDataEx', cuResult: 'CUDA_ERROR_UNSUPPORTED_PTX_VERSION' } });
  });
});
