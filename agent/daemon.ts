/**
 * The daemon's composition root: builds the parts, runs their loops, and
 * stops them in order. One AbortController owns the daemon's life; shutdown
 * (SIGTERM, SIGINT) stops taking work, writes a last uptime attestation,
 * flushes the link, then closes the journal, and the process exits 0.
 *
 * Persist before release: every attestation is signed and committed by the
 * journal before the link may send it. A journal that cannot be written
 * (disk full, read-only) pauses signing, shows in status and logs, and the
 * next heartbeat simply tries again.
 */
import { loadavg, uptime as osUptime } from 'node:os';
import { describeError, isCapanodeError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { readKeyFile } from '../common/keyfile.js';
import { VERSION } from '../common/version.js';
import type { BodyOf, Kind } from '../proofs/envelope.js';
import type { Beacon, Challenge, Verdict } from '../proofs/messages.js';
import type { KeyPair } from '../proofs/keys.js';
import { runLocalBench, type DeviceBench } from './bench/index.js';
import type { AgentPaths, Config } from './config/index.js';
import { startControlServer, type ControlHandler, type ControlServer } from './control/index.js';
import { openJournal, type Journal } from './journal/index.js';
import { Link, type LinkStatus } from './link/index.js';
import { createMetricsRegistry, startMetricsServer, type MetricsServer } from './metrics/index.js';
import { EarningsDesk, parseClaimRequest } from './service/earnings.js';
import { benchPotSolver } from './service/pot-solver.js';
import { openGpuSource, type GpuSource } from './service/gpus.js';
import { systemdNotifier, type Notifier } from './service/notify.js';
import type { StatusDocument } from './status/index.js';
import { openJobRunner, type JobRunner } from './workloads/index.js';

export interface DaemonOptions {
  paths: AgentPaths;
  config: Config;
  logger: Logger;
  /** The coordinator, when embedded (devnet): overrides the config's URL and key. */
  coordinator?: { url: string; key: string };
  adoptRemoteHead?: boolean;
  notifier?: Notifier;
  now?: () => number;
}

export interface Daemon {
  readonly nodeId: string;
  status(): StatusDocument;
  /** Resolves when the daemon has stopped. */
  readonly done: Promise<void>;
  stop(reason: string): Promise<void>;
  /** For devnet and tests: the link, to watch its progress. */
  readonly link: Link | null;
  readonly journal: Journal;
}

interface RunState {
  startedAt: number;
  lastUptimeTo: number;
  bench: StatusDocument['bench'];
  lastLocal: DeviceBench | null;
  pot: StatusDocument['pot'];
  journalError: string | null;
}

const EMPTY_LINK: LinkStatus = { state: 'disabled', since: 0, lastAckAt: null, lastAckSeq: null, lastError: null, nextRetryAt: null, rttMs: null, clockSkewMs: null };

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { paths, config } = options;
  const log = options.logger;
  const now = options.now ?? Date.now;
  const notifier = options.notifier ?? systemdNotifier();
  const abort = new AbortController();
  const shutdown: { name: string; run: () => Promise<void> | void }[] = [];

  const key: KeyPair = readKeyFile(paths.keyFile);
  log.info({ node: key.id, version: VERSION, dataDir: paths.dataDir }, 'starting');
  const journal = openJournal({ file: paths.journalFile, key, log: log.child({ component: 'journal' }) });
  shutdown.push({ name: 'journal', run: () => journal.close() });

  const state: RunState = {
    startedAt: now(),
    lastUptimeTo: now(),
    bench: null,
    lastLocal: null,
    pot: null,
    journalError: null,
  };

  let gpus: GpuSource | null = null;
  let link: Link | null = null;
  let control: ControlServer | null = null;
  let metrics: MetricsServer | null = null;
  let jobs: JobRunner | null = null;
  const timers: NodeJS.Timeout[] = [];
  // Earnings from the coordinator's account messages, and claims through the journal.
  const earnings = new EarningsDesk({
    nodeId: key.id,
    claimTo: config.claimTo,
    appendClaim: (body) => attest('claim', body),
    journalError: () => state.journalError,
    journal: () => journal.stats(),
    link: () => link?.snapshot() ?? EMPTY_LINK,
    log: log.child({ component: 'earnings' }),
  });

  // With --adopt-remote-head and an empty journal, nothing is signed until the link has adopted
  // the coordinator's head: a record signed before would start a second chain at seq 1.
  let awaitingAdoption = options.adoptRemoteHead === true && journal.head() === null;

  /** Signs and journals one record; a journal that cannot be written is reported, not fatal. Resolves with its seq once committed. */
  async function attest<K extends Kind>(kind: K, body: BodyOf[K]): Promise<number | null> {
    const linkState = link?.snapshot().state;
    if (awaitingAdoption || linkState === 'fork' || linkState === 'refused') {
      // After a fork or a refusal the journal and the coordinator disagree: signing more would only
      // lengthen a chain the coordinator will never accept. Status shows why.
      log.debug({ kind, linkState, awaitingAdoption }, 'not signing: the journal and the coordinator disagree');
      return null;
    }
    try {
      const rec = await journal.append(kind, body);
      if (state.journalError !== null) log.info('journal writable again: signing resumed');
      state.journalError = null;
      link?.notify();
      return rec.seq;
    } catch (e) {
      const message = describeError(e);
      if (state.journalError !== message) log.error({ err: isCapanodeError(e) ? e.toJSON() : message, kind }, 'cannot journal an attestation: signing paused');
      state.journalError = message;
      return null;
    }
  }

  // One uptime record at a time: each window starts where the last committed one ended.
  let uptimeChain: Promise<void> = Promise.resolve();
  function uptimeAttestation(): Promise<void> {
    uptimeChain = uptimeChain.then(async () => {
      const to = now();
      const from = state.lastUptimeTo;
      if (to <= from) return;
      const beacon: Beacon | null = link?.latestBeacon() ?? null;
      const body: BodyOf['uptime'] = {
        from,
        to,
        beacon: beacon?.id ?? null,
        gpus: gpus?.summarize(from, to) ?? [],
        host: { uptimeS: Math.floor(osUptime()), load1Milli: Math.round((loadavg()[0] ?? 0) * 1000) },
      };
      if ((await attest('uptime', body)) !== null) state.lastUptimeTo = to;
    });
    return uptimeChain;
  }

  function throughputAttestation(device: DeviceBench, pot: { challenge: Challenge; verdict: Verdict; root: string; elapsedUs: number } | null): void {
    void attest('throughput', {
      challenge: pot?.challenge.id ?? null,
      device: device.device === 'cpu' || /^(GPU|MIG)-/.test(device.device) ? device.device : 'cpu',
      n: pot?.challenge.n ?? 0,
      reps: pot?.challenge.reps ?? 0,
      dtype: 'f16',
      root: pot?.root ?? null,
      elapsedUs: pot?.elapsedUs ?? 0,
      local: device.local,
      verdict: pot?.verdict ?? null,
    });
  }

  async function localBench(): Promise<void> {
    try {
      const report = await runLocalBench({ quick: true });
      if (abort.signal.aborted) return;
      const first = report.devices.find((d) => d.kind === 'gpu') ?? report.devices[0];
      if (first === undefined) return;
      state.lastLocal = first;
      state.bench = { at: now(), device: first.device, ...first.local };
      if (!report.gpu.available) log.info({ reason: report.gpu.reason }, `no GPU benchmark: ${report.gpu.message}`);
      for (const d of report.devices) throughputAttestation(d, null);
      log.info({ devices: report.devices.map((d) => ({ device: d.device, ...d.local })) }, 'local benchmark done');
    } catch (e) {
      log.warn({ err: describeError(e) }, 'local benchmark failed');
    }
  }

  function snapshot(): StatusDocument {
    const stats = journal.stats();
    const linkStatus = link?.snapshot() ?? EMPTY_LINK;
    const condition = stats.condition === null ? state.journalError : `${stats.condition.code}: ${stats.condition.message}`;
    return {
      source: 'daemon',
      node: { id: key.id, version: VERSION, pid: process.pid, startedAt: state.startedAt, uptimeS: Math.floor((now() - state.startedAt) / 1000) },
      link: { ...linkStatus, coordinator: options.coordinator?.url ?? config.coordinatorUrl },
      gpus: gpus?.status() ?? [],
      findings: gpus?.findings() ?? [],
      bench: state.bench,
      pot: state.pot,
      journal: { headSeq: stats.headSeq, headHash: stats.headHash, watermark: stats.watermark, backlog: stats.backlog, rejected: stats.rejected, recordsByKind: stats.recordsByKind, error: condition },
      earnings: earnings.status(),
      jobs: jobs?.jobs() ?? [],
    };
  }

  try {
    gpus = await openGpuSource({ intervalMs: config.telemetryIntervalMs, dataDir: paths.dataDir, logger: log.child({ component: 'probe' }) });
    shutdown.push({ name: 'telemetry', run: () => gpus?.stop() });

    const coordinatorUrl = options.coordinator?.url ?? config.coordinatorUrl;
    const coordinatorKey = options.coordinator?.key ?? config.coordinatorKey;
    if (coordinatorUrl !== null && coordinatorKey !== null) {
      const firstGpu = gpus.inventory().gpus[0];
      const solver = benchPotSolver({ device: () => (firstGpu === undefined ? 'cpu' : firstGpu.index), logger: log.child({ component: 'pot' }) });
      link = new Link({
        url: coordinatorUrl,
        coordinatorKey,
        key,
        journal,
        inventory: () => ({
          gpus:
            gpus?.inventory().gpus.map((g) => ({ uuid: g.uuid, name: g.name, memoryMiB: g.memTotalMiB ?? 0, ...(g.powerLimitW === null || g.powerLimitW < 1 || g.powerLimitW > 10_000 ? {} : { powerLimitW: g.powerLimitW }) })) ?? [],
        }),
        agentVersion: VERSION,
        solver,
        logger: log.child({ component: 'link' }),
        adoptRemoteHead: options.adoptRemoteHead === true,
        events: {
          onState: (s) => {
            if (s.state === 'connected') awaitingAdoption = false;
            notifier.status(`link ${s.state}; journal head ${journal.head()?.seq ?? 0}, acked ${journal.watermark()}`);
          },
          onVerdict: (verdict, challenge, solution) => {
            state.pot = { at: now(), ok: verdict.ok, gflops: verdict.gflops, reason: verdict.reason, device: solution?.device ?? firstGpu?.uuid ?? 'cpu' };
            log.info({ remote: { id: verdict.id, ok: verdict.ok, gflops: verdict.gflops, reason: verdict.reason } }, 'PoT verdict');
            // No commit, no root: a throughput record would attest to nothing.
            if (solution === null) return;
            const local = state.lastLocal ?? { device: solution.device, local: { memBwMBps: 0, fp32Gflops: 0, tensorGflops: null, h2dMBps: null, d2hMBps: null } };
            throughputAttestation({ ...(local as DeviceBench), device: solution.device }, { challenge, verdict, root: solution.root, elapsedUs: solution.elapsedUs });
          },
          onAssign: (assign) => jobs?.assign(assign),
          onCancel: (cancel) => jobs?.cancel(cancel),
          onReceipt: (receipt) => earnings.onReceipt(receipt),
          onClaimRefused: (refusal) => earnings.onClaimRefused(refusal),
          onAccount: (account) => earnings.onAccount(account),
          onRejected: (seq, code, message) => log.error({ seq, remote: { code, message } }, 'the coordinator rejected a record: see `capanode journal verify` and `capanode claim --dry-run`'),
          onFork: (f) => log.error(f, 'FORK: the coordinator holds a different record at the same seq; streaming stopped'),
        },
      });
      link.start();
      const l = link;
      shutdown.push({
        name: 'link',
        run: async () => {
          const flushed = await l.flush(5_000);
          if (!flushed) log.warn({ backlog: journal.stats().backlog }, 'stopping with records not yet acknowledged: they are sent at the next start');
          await l.stop();
        },
      });
    } else {
      log.warn('no coordinator configured (coordinatorUrl, coordinatorKey): attestations are journaled but not sent');
    }

    // After the link: the runner reports through it, and on shutdown (reverse order) stops before the link's last flush.
    const l2 = link;
    const gpuSource = gpus;
    jobs = await openJobRunner({
      policy: { workloads: config.workloads, execAllowlist: config.execAllowlist, workloadUser: config.workloadUser, containerNetwork: config.containerNetwork },
      dataDir: paths.dataDir,
      logger: log.child({ component: 'jobs' }),
      now,
      ports: {
        devices: () => gpuSource.inventory().gpus.map((g) => ({ uuid: g.uuid, index: g.index })),
        energyMj: (uuid, fromMs, toMs) => gpuSource.energyMj(uuid, fromMs, toMs),
        appendUsage: async (body) => {
          const seq = await attest('usage', body);
          // The runner keeps the usage and retries: signing resumes when the journal or the link recovers.
          if (seq === null) throw new Error(state.journalError ?? 'not signing while the journal and the coordinator disagree');
          return seq;
        },
        sendUpdate: (update) => l2?.sendJob(update),
      },
    });
    jobs.start();
    const runner = jobs;
    shutdown.push({ name: 'jobs', run: () => runner.stop(config.jobGraceMs) });

    const handlers: Record<string, ControlHandler> = {
      status: () => snapshot(),
      ping: () => ({ pong: true, pid: process.pid }),
      claim: (params) => earnings.claim(parseClaimRequest(params)),
    };
    control = await startControlServer({ path: paths.controlSocket, handlers, logger: log.child({ component: 'control' }) });
    const c = control;
    shutdown.push({ name: 'control', run: () => c.close() });

    if (config.metricsListen !== 'off') {
      try {
        metrics = await startMetricsServer(config.metricsListen, createMetricsRegistry(snapshot, now), log.child({ component: 'metrics' }));
        const m = metrics;
        shutdown.push({ name: 'metrics', run: () => m.close() });
      } catch (e) {
        // Metrics are optional: a taken port must not stop the node from earning.
        log.error({ err: isCapanodeError(e) ? e.toJSON() : describeError(e) }, 'metrics disabled');
      }
    }

    timers.push(setInterval(() => void uptimeAttestation(), config.heartbeatIntervalMs));
    timers.push(setInterval(() => void localBench(), config.benchIntervalMs));
    timers.push(
      setInterval(
        () => {
          try {
            const pruned = journal.prune(config.retentionDays * 86_400_000);
            if (pruned.deleted > 0) log.info(pruned, 'journal retention');
          } catch (e) {
            log.warn({ err: describeError(e) }, 'journal retention failed');
          }
        },
        6 * 3_600_000,
      ),
    );
    if (config.benchOnStart) void localBench();

    notifier.ready(`journal head ${journal.head()?.seq ?? 0}; link ${link === null ? 'disabled' : 'started'}`);
    const stopWatchdog = notifier.startWatchdog();
    shutdown.push({ name: 'watchdog', run: stopWatchdog });
  } catch (e) {
    for (const t of timers) clearInterval(t);
    for (const step of shutdown.reverse()) {
      try {
        await step.run();
      } catch {
        // already failing: the first error is the one to report
      }
    }
    throw e;
  }

  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  let stopping: Promise<void> | null = null;

  async function stop(reason: string): Promise<void> {
    stopping ??= (async () => {
      abort.abort();
      log.info({ reason }, 'stopping');
      notifier.stopping();
      for (const t of timers) clearInterval(t);
      // The last window is committed before the link's final flush and the journal's close.
      await uptimeAttestation();
      for (const step of [...shutdown].reverse()) {
        try {
          await step.run();
        } catch (e) {
          log.error({ err: describeError(e), step: step.name }, 'shutdown step failed');
        }
      }
      log.info('stopped');
      resolveDone();
    })();
    return stopping;
  }

  return { nodeId: key.id, status: snapshot, done, stop, link, journal };
}
