import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { answerPot, checkDigests } from '../../../agent/bench/pot.js';
import { nativeBackend, type BenchBackend } from '../../../agent/bench/backend.js';
import { CapanodeError } from '../../../common/errors.js';
import { computeCheckDigests, computePot, verifyReveal, type PotCheck } from '../../../proofs/pot.js';
import { withFakeCuda } from '../../helpers/fake-libcuda.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const seedOf = (label: string): Uint8Array => new Uint8Array(createHash('sha256').update(`capanode:test-seed:${label}`).digest());

const noAddon: BenchBackend = {
  ...nativeBackend,
  loadError: () => new CapanodeError('native-unavailable', 'capanode\'s native addon could not be loaded', { details: { reason: 'addon-missing' } }),
};

const checks: PotCheck[] = [
  [0, 5],
  [3, 63],
  [3, 0],
];

async function answersAndReveals(backend: BenchBackend, device: 'cpu' | number, kind: string): Promise<void> {
  const seed = seedOf(`answer-${kind}`);
  const want = computePot(seed, 64, 4);
  const answer = await answerPot({ seed, n: 64, reps: 4, device }, backend);
  expect(answer.backend).toBe(kind);
  expect(hex(answer.root)).toBe(hex(want.root));
  const reveal = await answer.reveal(checks);
  expect(reveal.map((item) => item.r)).toEqual([0, 3]);
  expect(verifyReveal({ seed, n: 64, reps: 4, root: answer.root, checks, reveal })).toEqual({ ok: true });
  await answer.selfCheck();
}

describe('answerPot', () => {
  it('answers on the CPU through the addon', () => answersAndReveals(nativeBackend, 'cpu', 'cpu-native'));

  it('answers on the CPU in TypeScript when the addon did not load, saying why', async () => {
    await answersAndReveals(noAddon, 'cpu', 'cpu-ts');
    const a = await answerPot({ seed: seedOf('why'), n: 64, reps: 1, device: 'cpu' }, noAddon);
    expect(a.fallbackReason).toMatch(/could not be loaded/);
    expect(a.kernel).toBe('typescript');
  });

  it('answers on a GPU, reveals by recomputing the checked reps, names the GPU by UUID', async () => {
    await withFakeCuda('ok', () => answersAndReveals(nativeBackend, 0, 'gpu'));
    const a = await withFakeCuda('ok', () => answerPot({ seed: seedOf('uuid'), n: 64, reps: 2, device: 0 }));
    expect(a.device).toBe('GPU-5f5fa2a3-6d4b-2b1c-9a4c-2a3bb5a0e8e1');
    expect(a.gflops).toBeGreaterThan(0);
  });

  it('needs the addon for a GPU', async () => {
    await expect(answerPot({ seed: seedOf('x'), n: 64, reps: 1, device: 0 }, noAddon)).rejects.toMatchObject({ details: { reason: 'addon-missing' } });
  });

  it('passes the GPU\'s failure on, typed', async () => {
    await expect(withFakeCuda('oom', () => answerPot({ seed: seedOf('x'), n: 64, reps: 1, device: 0 }))).rejects.toMatchObject({
      code: 'native-failed',
      details: { reason: 'out-of-memory', call: 'cuMemAlloc_v2' },
    });
  });

  it('catches a GPU that computes wrong rows (self-check) or changes its answer (reveal)', async () => {
    const flipped = (d: Uint8Array): Uint8Array => d.map((b, k) => (k < 8 * 64 ? b ^ 0xff : b));
    const liar: BenchBackend = {
      ...nativeBackend,
      gpuPot: async (...args) => {
        const run = await nativeBackend.gpuPot(...args);
        return { ...run, kept: new Map([...run.kept].map(([r, d]) => [r, flipped(d)])) };
      },
    };
    const a = await withFakeCuda('ok', () => answerPot({ seed: seedOf('liar'), n: 64, reps: 2, device: 0 }, liar));
    await expect(a.selfCheck()).rejects.toMatchObject({ code: 'native-failed', details: { reason: 'self-check' } });

    let calls = 0;
    const drifting: BenchBackend = {
      ...nativeBackend,
      gpuPot: (device, seed, n, reps, options) => nativeBackend.gpuPot(device, calls++ === 0 ? seed : seedOf('other'), n, reps, options),
    };
    const b = await withFakeCuda('ok', () => answerPot({ seed: seedOf('drift'), n: 64, reps: 2, device: 0 }, drifting));
    await expect(withFakeCuda('ok', () => b.reveal([[1, 1]]))).rejects.toMatchObject({ details: { reason: 'self-check' } });
  });

  it('rejects bad parameters and checks outside the run', async () => {
    await expect(answerPot({ seed: seedOf('x'), n: 100, reps: 1, device: 'cpu' })).rejects.toMatchObject({ code: 'bad-input' });
    const a = await answerPot({ seed: seedOf('x'), n: 8, reps: 2, device: 'cpu', allowTinyN: true });
    await expect(a.reveal([[2, 0]])).rejects.toMatchObject({ code: 'bad-input' });
  });
});

describe('checkDigests', () => {
  it('recomputes rows natively, or in TypeScript without the addon', async () => {
    const seed = seedOf('check');
    const want = computeCheckDigests(seed, 64, checks).map(hex);
    expect((await checkDigests(seed, 64, checks)).map(hex)).toEqual(want);
    expect((await checkDigests(seed, 64, checks, noAddon)).map(hex)).toEqual(want);
  });
});
