import { afterEach, describe, expect, it } from 'vitest';
import { buildJobs, type SubmitInput } from '../../../coordinator/jobs/index.js';
import type { UsageBody } from '../../../proofs/envelope.js';
import { verifyCoordinatorMessage, type Assign, type Cancel, type CoordinatorMessage } from '../../../proofs/messages.js';
import type { KeyPair } from '../../../proofs/keys.js';
import { testKey } from '../../helpers/keys.js';
import { ChainBuilder, settle, startLedgerCoordinator, type LedgerCoordinator } from '../../helpers/ledger-fixture.js';
import { SimAgent } from '../../helpers/sim-agent.js';
import { until } from '../../helpers/processes.js';
import { freshStoreUrl, STORE_KINDS } from '../../helpers/postgres.js';

const GPU = 'GPU-11111111-2222-3333-4444-555555555555';
let c: LedgerCoordinator;
const agents: SimAgent[] = [];

afterEach(async () => {
  for (const a of agents.splice(0)) a.kill();
  await c.coordinator.close();
});

interface Node {
  key: KeyPair;
  agent: SimAgent;
  chain: ChainBuilder;
}

async function node(name: string): Promise<Node> {
  const key = testKey(name);
  const agent = await SimAgent.connect({ url: c.coordinator.url, coordinatorId: c.coordinator.id, key, inventory: { gpus: [{ uuid: GPU, name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81_559 }] } });
  agents.push(agent);
  return { key, agent, chain: new ChainBuilder(key) };
}

async function submit(input: Partial<SubmitInput> & { id: string }): Promise<void> {
  const rows = buildJobs({ workload: 'exec', params: { command: '/opt/jobs/x' }, deadlineMs: 60_000, fee: 1_000, redundancy: 1, node: null, ...input }, c.clock.now());
  expect(await c.coordinator.store.insertJobs(rows)).toBe(true);
}

/** Lets the dispatcher poll (jobPollMs) and messages arrive. */
async function poll(): Promise<void> {
  await c.clock.advance(1_000);
  await c.coordinator.jobs.tick();
  await new Promise((r) => setTimeout(r, 50));
  await settle();
}

function assigns(n: Node): Assign[] {
  return n.agent.messages.filter((m): m is Assign => m.t === 'assign');
}

/** Streams a usage record for the job and waits for its ack. */
async function report(n: Node, body: Partial<UsageBody> & { job: string }, state: 'done' | 'failed' | null = 'done'): Promise<void> {
  const now = c.clock.now();
  const rec = n.chain.next('usage', { workload: 'exec', device: GPU, startedAt: now - 2_000, endedAt: now, gpuMs: 2_000, energyMj: 600_000, exitCode: 0, outputSha256: 'a'.repeat(64), ...body }, now);
  n.agent.sendRecords([rec]);
  const seq = rec.record.env.seq;
  await n.agent.waitForAck(seq);
  const store = c.coordinator.store;
  // Judged: accepted on the job, or refused.
  await until(async () => (await store.getJob(body.job))?.usageSeq === seq || (await store.usageRefusals(n.key.id)).some((r) => r.seq === seq), 5_000, `usage seq ${seq} to be judged`);
  if (state !== null) {
    n.agent.send({ t: 'job', job: body.job, state, reason: null, usageSeq: seq });
    await until(async () => (await store.getJob(body.job))?.finishedAt != null, 5_000, `job ${body.job} to end`);
  }
}

describe.each(STORE_KINDS)('the coordinator\'s jobs (%s store)', (kind) => {
  const start = async (config: Parameters<typeof startLedgerCoordinator>[0] = {}) => startLedgerCoordinator({ ...config, storeUrl: await freshStoreUrl(kind) });
  it('assigns a queued job with a signed assign, follows it, and credits its usage as the epoch\'s work', async () => {
    c = await start();
    const a = await node('jobs-a');
    await submit({ id: 'j1', node: a.key.id });
    await poll();
    const [assign] = assigns(a);
    expect(assign).toMatchObject({ job: 'j1', workload: 'exec', params: { command: '/opt/jobs/x' }, deadlineMs: 60_000 });
    expect(verifyCoordinatorMessage(assign!, c.coordinator.id)).toBe(true);
    a.agent.send({ t: 'job', job: 'j1', state: 'running', reason: null, usageSeq: null });
    await until(async () => (await c.coordinator.store.getJob('j1'))?.state === 'running', 5_000, 'the job to run');
    await c.clock.advance(3_000);
    await report(a, { job: 'j1' });
    const j1 = await c.coordinator.store.getJob('j1');
    expect(j1).toMatchObject({ state: 'done', usageAccepted: true, usageSeq: 1, gpuMs: 2_000, energyMj: 600_000, audit: 'none' });
    expect(j1?.creditedAt).toBe(c.clock.now());
    // The epoch's facts carry the job, its fee and the busy time.
    await c.clock.advance(70_000);
    await until(async () => (await c.coordinator.store.ledgerDetails({ node: a.key.id, fromEpoch: 0, toEpoch: 0 })).length === 1, 5_000, 'epoch 0 to close');
    const [detail] = await c.coordinator.store.ledgerDetails({ node: a.key.id, fromEpoch: 0, toEpoch: 0 });
    expect(detail?.facts.jobs).toEqual([{ id: 'j1', fee: 1_000, audit: 'none' }]);
    expect(detail?.facts.busyMs).toBe(j1!.usageAt! - j1!.assignedAt!);
    expect(detail?.payout.parts.feeReturn).toBe(900);
  });

  it('refuses usage for a job never assigned, for another node\'s job, and with impossible energy', async () => {
    c = await start();
    const a = await node('jobs-a');
    const b = await node('jobs-b');
    await submit({ id: 'j1', node: a.key.id });
    await submit({ id: 'j2', node: a.key.id, fee: 5 });
    await poll();
    await report(a, { job: 'never-assigned' }, null);
    await report(b, { job: 'j1' }, null);
    await report(a, { job: 'j1', energyMj: 2_000 * 1_000 + 1 });
    await report(a, { job: 'j1' }, null);
    const refused = await c.coordinator.store.usageRefusals();
    expect(refused.map((r) => [r.node === a.key.id ? 'a' : 'b', r.job, r.code]).sort()).toEqual([
      ['a', 'j1', 'usage-duplicate'],
      ['a', 'j1', 'usage-energy'],
      ['a', 'never-assigned', 'usage-unknown-job'],
      ['b', 'j1', 'usage-wrong-node'],
    ]);
    expect(await c.coordinator.store.getJob('j1')).toMatchObject({ usageAccepted: false, usageCode: 'usage-energy', creditedAt: null });
    // A job update for a job that is not the node's: nacked.
    b.agent.send({ t: 'job', job: 'j2', state: 'done', reason: null, usageSeq: null });
    const nack = await b.agent.waitForNack();
    expect(nack).toMatchObject({ code: 'unexpected-message', message: expect.stringContaining('j2') as unknown });
  });

  it('puts a rejected job back in the queue for another node, and fails it after maxAttempts', async () => {
    c = await start({ config: { jobMaxAttempts: 2 } });
    const a = await node('jobs-a');
    const b = await node('jobs-b');
    await submit({ id: 'j1' });
    await poll();
    const first = [a, b].find((n) => assigns(n).length === 1)!;
    const second = first === a ? b : a;
    first.agent.send({ t: 'job', job: 'j1', state: 'rejected', reason: 'exec jobs are disabled on this node', usageSeq: null });
    await poll();
    expect(assigns(second).map((m) => m.job)).toEqual(['j1']);
    second.agent.send({ t: 'job', job: 'j1', state: 'rejected', reason: 'busy', usageSeq: null });
    await poll();
    expect(await c.coordinator.store.getJob('j1')).toMatchObject({ state: 'failed', rejectedBy: [first.key.id, second.key.id] });
    expect(assigns(first)).toHaveLength(1);
  });

  it('delivers a signed cancel to the node running the job; a queued job is withdrawn at once', async () => {
    c = await start();
    const a = await node('jobs-a');
    await submit({ id: 'j1', node: a.key.id });
    await poll();
    expect(await c.coordinator.store.transitionJob('j1', ['assigned', 'running'], { cancelRequested: true, reason: 'customer withdrew' })).toBe(true);
    await poll();
    const cancel = a.agent.messages.find((m): m is Cancel => m.t === 'cancel');
    expect(cancel).toMatchObject({ job: 'j1', reason: 'customer withdrew' });
    expect(verifyCoordinatorMessage(cancel!, c.coordinator.id)).toBe(true);
    a.agent.send({ t: 'job', job: 'j1', state: 'cancelled', reason: 'cancelled by the coordinator', usageSeq: null });
    await until(async () => (await c.coordinator.store.getJob('j1'))?.state === 'cancelled', 5_000, 'the job to be cancelled');
  });

  it('writes off a job whose node goes silent past the deadline', async () => {
    c = await start({ config: { jobSlackMs: 1_000 } });
    const a = await node('jobs-a');
    await submit({ id: 'j1', node: a.key.id, deadlineMs: 5_000 });
    await poll();
    await c.clock.advance(7_000);
    await c.coordinator.jobs.tick();
    await until(async () => (await c.coordinator.store.getJob('j1'))?.usageAt != null, 5_000, 'the job to be written off');
    expect(await c.coordinator.store.getJob('j1')).toMatchObject({ state: 'lost', usageAccepted: false, creditedAt: null });
  });

  it('redundant execution: honest replicas agree; a different digest is flagged', async () => {
    c = await start();
    const nodes = [await node('jobs-a'), await node('jobs-b'), await node('jobs-c')];
    await submit({ id: 'agree', workload: 'pot', params: { seed: 'ab'.repeat(32), n: 64, reps: 2 }, redundancy: 2 });
    await submit({ id: 'vote', workload: 'pot', params: { seed: 'cd'.repeat(32), n: 64, reps: 2 }, redundancy: 3 });
    // One job per GPU: the dispatcher spreads the replicas as nodes free up.
    for (let round = 0; round < 4; round++) {
      await poll();
      for (const n of nodes) {
        for (const m of assigns(n)) {
          const done = await c.coordinator.store.getJob(m.job);
          if (done?.usageAt !== null) continue;
          const liar = n === nodes[2] && m.job.startsWith('vote');
          await report(n, { job: m.job, workload: 'pot', outputSha256: (liar ? 'e' : m.job.startsWith('agree') ? 'a' : 'b').repeat(64) });
        }
      }
    }
    const audits = async (group: string) => (await c.coordinator.store.listJobs({ group })).sort((x, y) => (x.id < y.id ? -1 : 1)).map((j) => [j.node === nodes[2]!.key.id ? 'liar' : 'honest', j.audit]);
    expect((await audits('agree')).map(([, audit]) => audit)).toEqual(['passed', 'passed']);
    const vote = await audits('vote');
    expect(vote).toHaveLength(3);
    expect(vote.filter(([who]) => who === 'liar')).toEqual([['liar', 'failed']]);
    expect(vote.filter(([who]) => who === 'honest').map(([, a]) => a)).toEqual(['passed', 'passed']);
    const replicas = (await c.coordinator.store.listJobs({ group: 'vote' })).map((j) => j.node);
    expect(new Set(replicas).size).toBe(3);
  });
});

// Keep the type import used for the helpers' message list.
export type { CoordinatorMessage };
