/**
 * Proof of Throughput end to end on the CPU backend: a real coordinator
 * process challenging simulated agents (n = 64, tiny reps, short intervals).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCoordinatorMessage } from '../../proofs/messages.js';
import { testKey } from '../helpers/keys.js';
import { SimAgent, type PotBehaviour, type SimAgentOptions } from '../helpers/sim-agent.js';
import { tempDir } from '../helpers/tmp.js';
import { queryStore, spawnCoordinator, type CoordinatorProcess } from './process.js';

let c: CoordinatorProcess;

beforeAll(async () => {
  c = await spawnCoordinator({
    dir: tempDir(),
    settings: { potEnabled: true, challengeMinIntervalMs: 50, challengeMaxIntervalMs: 250, potCpuN: 64, potReps: 4, potK: 16, potDeadlineMs: 2000 },
  });
});
afterAll(async () => {
  expect(await c.stop()).toBe(0);
});

async function verdictFor(name: string, pot: PotBehaviour, extra: Partial<SimAgentOptions> = {}) {
  const key = testKey(`pot-${name}`);
  const agent = await SimAgent.connect({ url: c.url, coordinatorId: c.key.id, key, pot, ...extra });
  const verdict = await agent.waitForVerdict();
  await agent.close();
  expect(verifyCoordinatorMessage(verdict, c.key.id)).toBe(true);
  const challenge = agent.challenges.find((x) => x.id === verdict.id);
  expect(challenge).toMatchObject({ n: 64, reps: 4, dtype: 'f16', deadlineMs: 2000 });
  const stored = queryStore<{ ok: number; gflops: number; reason: string | null; state: string; strikes: number }>(
    c.storeFile,
    'SELECT v.ok, v.gflops, v.reason, ch.state, n.strikes FROM verdicts v JOIN challenges ch ON ch.id = v.challenge JOIN nodes n ON n.id = v.node WHERE v.challenge = ?',
    verdict.id,
  );
  return { verdict, stored: stored[0], open: agent.messages.find((m) => m.t === 'open' && m.id === verdict.id) };
}

describe('PoT on the CPU backend', () => {
  it('an honest agent passes; the checks came only after its commit; the verdict is stored', async () => {
    const { verdict, stored, open } = await verdictFor('honest', { kind: 'honest' });
    expect(verdict).toMatchObject({ ok: true, reason: null });
    expect(open).toMatchObject({ t: 'open' });
    expect((open as { checks: unknown[] }).checks).toHaveLength(16);
    expect(stored).toMatchObject({ ok: 1, state: 'verified', strikes: 0 });
  });

  it('an agent that skips rows fails with wrong-digest', async () => {
    // It committed consistently to garbage for 3/4 of the rows: 16 checks all miss them with probability 4^-16.
    const { verdict, stored } = await verdictFor('skip', { kind: 'skip', fraction: 0.75 });
    expect(verdict.ok).toBe(false);
    expect(verdict.gflops).toBe(0);
    expect(verdict.reason).toMatch(/^pot-invalid: wrong-digest: row \d+ of rep \d+/);
    expect(stored).toMatchObject({ ok: 0, state: 'failed', strikes: 1 });
  });

  it('an agent that reveals other digests than it committed to fails with bad-path', async () => {
    const { verdict, stored } = await verdictFor('wrong', { kind: 'wrong-digests' });
    expect(verdict.ok).toBe(false);
    expect(verdict.reason).toMatch(/^pot-invalid: bad-path: /);
    expect(stored).toMatchObject({ state: 'failed', strikes: 1 });
  });

  it('an agent that never answers misses the deadline', async () => {
    const { verdict, stored } = await verdictFor('silent', { kind: 'silent' });
    expect(verdict.ok).toBe(false);
    expect(verdict.reason).toMatch(/^deadline: no commit within 2000 ms/);
    expect(stored).toMatchObject({ state: 'expired' });
  });

  it('a commit or reveal that matches no challenge is refused with unexpected-message', async () => {
    const agent = await SimAgent.connect({ url: c.url, coordinatorId: c.key.id, key: testKey('pot-stray'), pot: { kind: 'manual' } });
    agent.send({ t: 'commit', id: 'not-a-challenge', root: 'ab'.repeat(32), elapsedUs: 5, device: 'cpu' });
    expect(await agent.waitForNack()).toMatchObject({ code: 'unexpected-message', seq: null });
    agent.send({ t: 'reveal', id: 'not-a-challenge', items: [{ r: 0, digests: '', path: [] }] });
    expect(await agent.waitForNack()).toMatchObject({ code: 'unexpected-message' });
    await agent.close();
  });

  it('a claimed time faster than the coordinator saw is not believed: gflops is bounded by its own clock', async () => {
    // Claims 1 µs for 2·64³·4 flops (2 PFLOP/s) but commits only after 300 ms.
    const { verdict } = await verdictFor('boast', { kind: 'honest' }, { claimElapsedUs: 1, commitDelayMs: 300 });
    expect(verdict.ok).toBe(true);
    const flops = 2 * 64 ** 3 * 4;
    expect(verdict.gflops).toBeLessThanOrEqual(Math.floor(flops / 250_000 / 1000));
    expect(verdict.gflops).toBeLessThan(Math.floor(flops / 1 / 1000));
  });
});
