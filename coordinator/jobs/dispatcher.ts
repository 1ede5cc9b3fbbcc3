/**
 * The coordinator's side of workloads: sends queued jobs to connected
 * nodes, delivers cancels, follows each job through the agent's updates,
 * judges usage records, settles redundant groups, and writes off jobs whose
 * node went silent past the deadline. Everything it knows is in the store,
 * and every change is a compare-and-set there, so the CLI (another process)
 * can submit and cancel, and several coordinator processes can dispatch
 * from one store without sending a job twice.
 */
import { describeError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { UsageBodySchema } from '../../proofs/envelope.js';
import type { KeyPair } from '../../proofs/keys.js';
import { signCoordinatorMessage, type Assign, type Cancel, type JobUpdate } from '../../proofs/messages.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { ItemResult } from '../frame.js';
import type { JobRow, NewJob } from '../store/job-types.js';
import type { Store } from '../store/types.js';
import { decideAudit } from './audit.js';
import { jobSlots } from './busy.js';
import { judgeUsage, type UsageLimits } from './usage.js';

/** What the dispatcher needs of the link server. */
export interface JobLink {
  connected(): string[];
  /** Sends to the node's session here; false when it has none. */
  send(node: string, message: Assign | Cancel): boolean;
}

export interface DispatcherSettings {
  pollMs: number;
  /** Nodes that may reject a job before it fails. */
  maxAttempts: number;
  limits: UsageLimits;
}

/** A cancel is sent again this long after the last try, until the node reports the job ended. */
const CANCEL_RESEND_MS = 30_000;
const QUEUE_BATCH = 64;

export class JobDispatcher {
  private timer: TimerHandle | null = null;
  private ticking: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly cancelsSent = new Map<string, number>();

  constructor(
    private readonly o: { store: Store; key: KeyPair; clock: Clock; settings: DispatcherSettings; link: () => JobLink | null; log: Logger },
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    await this.ticking;
  }

  /** Something changed (a node connected, a job ended): look at the queue now rather than at the next poll. */
  nudge(): void {
    if (this.stopped) return;
    void this.tick();
  }

  /** One pass over deadlines, cancels and the queue. Never throws (a store failure is logged; the next poll retries). */
  tick(): Promise<void> {
    if (this.ticking !== null) {
      this.again = true;
      return this.ticking;
    }
    this.ticking = (async () => {
      do {
        this.again = false;
        try {
          await this.watchUnsettled();
          await this.dispatchQueued();
        } catch (e) {
          this.o.log.error({ err: describeError(e) }, 'job dispatch failed; retried at the next poll');
        }
      } while (this.repeat());
    })().finally(() => (this.ticking = null));
    return this.ticking;
  }

  /** A nudge arrived during the pass: run another (read through a call: it changes across awaits). */
  private repeat(): boolean {
    return this.again && !this.stopped;
  }

  /** An update from the node the job was assigned to; false when the node holds no such job (the session nacks it). */
  async onUpdate(node: string, m: JobUpdate): Promise<boolean> {
    const { store, clock } = this.o;
    const job = await store.getJob(m.job);
    if (job?.node !== node || job.assignedAt === null) return false;
    const now = clock.now();
    switch (m.state) {
      case 'accepted':
        return true;
      case 'running':
        await store.transitionJob(job.id, ['assigned'], { state: 'running' });
        return true;
      case 'rejected': {
        const rejectedBy = [...job.rejectedBy, node];
        const reason = `${node.slice(0, 16)}: ${m.reason ?? 'rejected'}`.slice(0, 256);
        if (rejectedBy.length >= this.o.settings.maxAttempts) {
          await store.transitionJob(job.id, ['assigned', 'running'], { state: 'failed', rejectedBy, assignedAt: null, finishedAt: now, reason: `rejected by ${rejectedBy.length} nodes; last: ${reason}`.slice(0, 256) });
          await this.settleGroup(job);
        } else {
          await store.transitionJob(job.id, ['assigned', 'running'], { state: 'queued', node: null, assignedAt: null, rejectedBy, reason });
        }
        this.o.log.info({ job: job.id, node, remote: { reason: m.reason } }, 'job rejected by the node');
        this.nudge();
        return true;
      }
      case 'done':
      case 'failed':
      case 'timeout':
      case 'cancelled':
        await store.transitionJob(job.id, ['assigned', 'running'], { state: m.state, finishedAt: now, reason: m.reason });
        this.cancelsSent.delete(job.id);
        this.o.log.info({ job: job.id, node, state: m.state, remote: { reason: m.reason, usageSeq: m.usageSeq } }, 'job ended');
        this.nudge();
        return true;
    }
  }

  /** Judges the usage records of a stored frame (those at or below the acknowledged seq). */
  async settleUsage(node: string, items: readonly ItemResult[], storedUpTo: number): Promise<void> {
    for (const item of items) {
      if (!item.ok || item.record.kind !== 'usage' || item.record.node !== node || item.record.seq > storedUpTo) continue;
      try {
        await this.judge(node, item.record.seq, item.record.canonical);
      } catch (e) {
        this.o.log.error({ err: describeError(e), node, seq: item.record.seq }, 'could not judge a usage record');
      }
    }
  }

  private async judge(node: string, seq: number, canonical: string): Promise<void> {
    const { store, clock } = this.o;
    const usage = UsageBodySchema.parse((JSON.parse(canonical) as { body: unknown }).body);
    const job = await store.getJob(usage.job);
    // The same record again (resent after a reconnect): already judged.
    if (job !== null && job.node === node && job.usageSeq === seq) return;
    const info = await store.getNode(node);
    const verdict = judgeUsage(job, usage, { node, skewMs: info?.skewMs ?? null, inventory: info?.inventory ?? null, limits: this.o.settings.limits });
    const now = clock.now();
    if (verdict.accepted && job !== null) {
      const judged = await store.recordUsageJudgement(job.id, { usageSeq: seq, usageAt: now, usageAccepted: true, usageCode: null, usageReason: null, outputSha256: usage.outputSha256, gpuMs: usage.gpuMs, energyMj: usage.energyMj });
      if (judged) {
        this.o.log.info({ job: job.id, node, seq, gpuMs: usage.gpuMs, energyMj: usage.energyMj }, 'usage accepted');
        if (job.redundancy === 1) await store.setAudit([{ id: job.id, audit: 'none', creditedAt: now }]);
        else await this.settleGroup(job);
        return;
      }
    }
    const refusal = verdict.accepted ? { code: 'usage-duplicate' as const, reason: `job ${usage.job} already has a usage record` } : verdict;
    // A refused record for this node's own job still closes the job's accounting: the job earns nothing.
    if (job !== null && job.node === node && refusal.code !== 'usage-duplicate') {
      await store.recordUsageJudgement(job.id, { usageSeq: seq, usageAt: now, usageAccepted: false, usageCode: refusal.code, usageReason: refusal.reason });
      if (job.redundancy > 1) await this.settleGroup(job);
    }
    await store.recordUsageRefusal({ node, seq, job: usage.job, code: refusal.code, reason: refusal.reason.slice(0, 512), at: now });
    this.o.log.warn({ node, seq, job: usage.job, code: refusal.code, reason: refusal.reason }, 'usage record refused: it earns nothing');
  }

  /** Redundant groups: decide the audit once every replica has settled, or add a tiebreak replica. */
  private async settleGroup(job: JobRow): Promise<void> {
    if (job.redundancy <= 1) return;
    const { store, clock } = this.o;
    const rows = await store.listJobs({ group: job.group });
    if (!rows.some((j) => j.audit === 'pending')) return;
    const decision = decideAudit([...rows].sort((a, b) => (a.id < b.id ? -1 : 1)));
    if (decision.kind === 'wait') return;
    if (decision.kind === 'tiebreak') {
      const template = rows[0] as JobRow;
      const replica: NewJob = { id: `${job.group}.r${rows.length + 1}`, group: job.group, workload: template.workload, params: template.params, deadlineMs: template.deadlineMs, fee: template.fee, redundancy: template.redundancy, pinned: null, submittedAt: clock.now() };
      if (await store.insertJobs([replica])) {
        this.o.log.warn({ group: job.group }, 'redundant results disagree with no majority: one more replica settles it');
        this.nudge();
      }
      return;
    }
    const now = clock.now();
    await store.setAudit(decision.updates.map((u) => ({ id: u.id, audit: u.audit, creditedAt: u.audit === 'disputed' ? null : now })));
    const failed = decision.updates.filter((u) => u.audit === 'failed' || u.audit === 'disputed');
    if (failed.length > 0) this.o.log.warn({ group: job.group, audits: decision.updates }, 'redundant execution: results disagree');
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.after(this.o.settings.pollMs, () => {
      void this.tick().finally(() => this.schedule());
    });
  }

  /** Deadlines passed with no word (lost), ended jobs whose usage never came, and cancels to deliver. */
  private async watchUnsettled(): Promise<void> {
    const { store, clock, settings } = this.o;
    const now = clock.now();
    const link = this.o.link();
    for (const job of await store.unsettledJobs()) {
      if (job.assignedAt === null) continue;
      const windowEnd = job.assignedAt + job.deadlineMs + settings.limits.slackMs;
      if (now > windowEnd) {
        const noWord = job.state === 'assigned' || job.state === 'running';
        if (noWord) await store.transitionJob(job.id, ['assigned', 'running'], { state: 'lost', finishedAt: now, reason: 'no word from the node before the deadline' });
        await store.recordUsageJudgement(job.id, { usageAt: now, usageAccepted: false, usageCode: null, usageReason: 'no usage record before the deadline' });
        if (noWord) this.o.log.warn({ job: job.id, node: job.node }, 'job lost: no word from the node before the deadline');
        await this.settleGroup(job);
        continue;
      }
      if (job.cancelRequested && job.node !== null && (job.state === 'assigned' || job.state === 'running')) {
        const last = this.cancelsSent.get(job.id);
        if (last !== undefined && now - last < CANCEL_RESEND_MS) continue;
        const cancel = signCoordinatorMessage({ t: 'cancel' as const, job: job.id, reason: (job.reason ?? 'cancelled by the operator').slice(0, 256) }, this.o.key);
        if (link?.send(job.node, cancel) === true) this.cancelsSent.set(job.id, now);
      }
    }
  }

  private async dispatchQueued(): Promise<void> {
    const link = this.o.link();
    if (link === null) return;
    const { store, clock } = this.o;
    const connected = link.connected();
    if (connected.length === 0) return;
    const queued = await store.queuedJobs(QUEUE_BATCH);
    if (queued.length === 0) return;
    // Open jobs per node, across every process sharing the store.
    const load = new Map<string, number>();
    const groups = new Map<string, Set<string>>();
    for (const j of await store.unsettledJobs()) {
      if (j.node === null || (j.state !== 'assigned' && j.state !== 'running')) continue;
      load.set(j.node, (load.get(j.node) ?? 0) + 1);
    }
    // One query for every node's inventory, not one per connected node: a coordinator may hold thousands.
    const here = new Set(connected);
    const capacity = new Map<string, number>();
    for (const info of await store.listNodes()) {
      if (!here.has(info.id) || info.banned) continue;
      capacity.set(info.id, jobSlots(info.inventory));
    }
    for (const job of queued) {
      if (job.redundancy > 1 && !groups.has(job.group)) groups.set(job.group, new Set((await store.listJobs({ group: job.group })).map((r) => r.node).filter((n): n is string => n !== null)));
      const taken = groups.get(job.group);
      const candidates = [...capacity.entries()]
        .filter(([node, cap]) => (load.get(node) ?? 0) < cap && !job.rejectedBy.includes(node) && (job.pinned === null || job.pinned === node) && taken?.has(node) !== true)
        .sort((a, b) => (load.get(a[0]) ?? 0) - (load.get(b[0]) ?? 0) || (a[0] < b[0] ? -1 : 1));
      const node = candidates[0]?.[0];
      if (node === undefined) continue;
      const now = clock.now();
      if (!(await store.transitionJob(job.id, ['queued'], { state: 'assigned', node, assignedAt: now, reason: null }))) continue;
      const assign = signCoordinatorMessage({ t: 'assign' as const, job: job.id, workload: job.workload, params: JSON.parse(job.params) as Assign['params'], deadlineMs: job.deadlineMs }, this.o.key);
      if (!link.send(node, assign)) {
        // The session went away between the list and the send: back to the queue.
        await store.transitionJob(job.id, ['assigned'], { state: 'queued', node: null, assignedAt: null });
        continue;
      }
      load.set(node, (load.get(node) ?? 0) + 1);
      taken?.add(node);
      this.o.log.info({ job: job.id, node, workload: job.workload }, 'job assigned');
    }
  }
}
