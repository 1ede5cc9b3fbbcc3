/**
 * The link's part in jobs, against the reference coordinator: a signed
 * assign and cancel reach the agent's events; a job update sent while the
 * link is down waits and arrives after the next welcome.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildJobs } from '../../../coordinator/jobs/index.js';
import type { Assign, Cancel } from '../../../proofs/messages.js';
import { testKey } from '../../helpers/keys.js';
import { startLedgerCoordinator } from '../../helpers/ledger-fixture.js';
import { until } from '../../helpers/processes.js';
import { testLink } from '../../helpers/link.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('link: jobs', () => {
  it('passes assign and cancel on, and delivers job updates queued while disconnected', async () => {
    const { coordinator: c, clock } = await startLedgerCoordinator();
    cleanup.push(() => c.close());
    const node = testKey('link-jobs-node');
    const assigns: Assign[] = [];
    const cancels: Cancel[] = [];
    const link = testLink(c, node, { events: { onAssign: (a) => assigns.push(a), onCancel: (x) => cancels.push(x) } });
    await c.store.insertJobs(buildJobs({ id: 'j1', workload: 'bench', params: {}, deadlineMs: 60_000, fee: 0, redundancy: 1, node: node.id }, clock.now()));
    link.start();
    cleanup.push(() => link.stop());
    await until(() => c.connected().includes(node.id), 8_000, 'the node to connect');
    await c.jobs.tick();
    await until(() => assigns.length === 1, 8_000, 'the assign');
    expect(assigns[0]).toMatchObject({ job: 'j1', workload: 'bench' });
    // The link goes down; an update sent meanwhile waits for the next session.
    await link.stop();
    await until(() => !c.connected().includes(node.id), 8_000, 'the node to disconnect');
    link.sendJob({ job: 'j1', state: 'running', reason: null, usageSeq: null });
    expect((await c.store.getJob('j1'))?.state).toBe('assigned');
    link.start();
    await until(async () => (await c.store.getJob('j1'))?.state === 'running', 8_000, 'the queued update to arrive');

    await c.store.transitionJob('j1', ['running'], { cancelRequested: true, reason: 'operator' });
    await c.jobs.tick();
    await until(() => cancels.length === 1, 8_000, 'the cancel');
    expect(cancels[0]).toMatchObject({ job: 'j1', reason: 'operator' });
    link.sendJob({ job: 'j1', state: 'cancelled', reason: 'cancelled by the coordinator: operator', usageSeq: null });
    await until(async () => (await c.store.getJob('j1'))?.state === 'cancelled', 8_000, 'the final update');
  });
});
