import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.js';
import { benchBackend, containerBackend, execBackend, JobRunner, potBackend, type Sandbox, type WorkloadPolicy } from '../../../agent/workloads/index.js';
import { detectSandbox } from '../../../agent/workloads/sandbox.js';
import { readStat } from '../../../agent/workloads/proc.js';
import { readJobsFile } from '../../../agent/workloads/state.js';
import { until } from '../../helpers/processes.js';
import { tempDir } from '../../helpers/tmp.js';
import { assignment, POWER_W, recordingPorts, script } from '../../helpers/workload-ports.js';

const log = createLogger({ level: 'silent' });
const GPU = 'GPU-11111111-2222-3333-4444-555555555555';
const runners: JobRunner[] = [];
let sandboxPromise: Promise<Sandbox> | undefined;
const sandbox = () => (sandboxPromise ??= detectSandbox('nobody', log));

afterEach(async () => {
  for (const r of runners.splice(0)) await r.stop(0);
});

async function makeRunner(options: { policy?: Partial<WorkloadPolicy>; devices?: { uuid: string; index: number }[]; dir?: string; ports?: ReturnType<typeof recordingPorts> } = {}) {
  const dir = options.dir ?? tempDir();
  const ports = options.ports ?? recordingPorts(options.devices ?? []);
  const policy: WorkloadPolicy = { workloads: ['pot', 'bench', 'exec'], execAllowlist: [], workloadUser: 'nobody', containerNetwork: false, ...options.policy };
  const runner = new JobRunner({
    policy,
    stateFile: join(dir, 'jobs.json'),
    logDir: join(dir, 'jobs'),
    ports,
    backends: { pot: potBackend, bench: benchBackend, exec: execBackend(await sandbox()), container: containerBackend(null, 'not used in this test') },
    logger: log,
    aliveIntervalMs: 50,
    killGraceMs: 300,
  });
  runner.start();
  runners.push(runner);
  return { runner, ports, dir };
}

const finished = (ports: ReturnType<typeof recordingPorts>, job: string) => until(() => ports.final(job) !== undefined, 20_000, `job ${job} to end`);

/** Every pid is gone or a zombie (killed, waiting for a parent to reap it). */
function dead(pid: number): boolean {
  const text = (() => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return null;
    }
  })();
  return text === null || text.slice(text.lastIndexOf(')') + 2).startsWith('Z');
}

describe('exec jobs', () => {
  it('runs an allowed command and signs usage from the job window and the power telemetry', async () => {
    const cmd = script('echo hello; echo oops >&2; exit 0');
    const { runner, ports, dir } = await makeRunner({ policy: { execAllowlist: [cmd] }, devices: [{ uuid: GPU, index: 0 }] });
    const a = assignment('exec', { command: cmd });
    runner.assign(a);
    await finished(ports, a.job);
    expect(ports.updates.filter((u) => u.job === a.job).map((u) => u.state)).toEqual(['accepted', 'running', 'done']);
    const usage = ports.usages[0]!;
    expect(ports.final(a.job)).toEqual({ job: a.job, state: 'done', reason: null, usageSeq: 1 });
    expect(usage).toMatchObject({ job: a.job, workload: 'exec', device: GPU, exitCode: 0, outputSha256: createHash('sha256').update('hello\n').digest('hex') });
    expect(usage.gpuMs).toBe(usage.endedAt - usage.startedAt);
    expect(usage.energyMj).toBe(POWER_W * (usage.endedAt - usage.startedAt));
    expect(ports.energyCalls).toEqual([[GPU, usage.startedAt, usage.endedAt]]);
    // Kept output: stdout and stderr, 0600.
    expect(readFileSync(join(dir, 'jobs', `${a.job}.log`), 'utf8')).toContain('oops');
  });

  it('reports a non-zero exit as failed, with its usage', async () => {
    const cmd = script('exit 3');
    const { runner, ports } = await makeRunner({ policy: { execAllowlist: [cmd] } });
    const a = assignment('exec', { command: cmd });
    runner.assign(a);
    await finished(ports, a.job);
    expect(ports.final(a.job)).toMatchObject({ state: 'failed', reason: 'exited with code 3', usageSeq: 1 });
    expect(ports.usages[0]).toMatchObject({ device: 'cpu', energyMj: 0, exitCode: 3 });
  });

  it('rejects a command not on the allowlist, and exec when the operator has not enabled it', async () => {
    const cmd = script('exit 0');
    const { runner, ports } = await makeRunner({ policy: { execAllowlist: ['/usr/bin/true'] } });
    const a = assignment('exec', { command: cmd });
    runner.assign(a);
    expect(ports.final(a.job)).toMatchObject({ state: 'rejected', usageSeq: null });
    expect(ports.final(a.job)?.reason).toContain('execAllowlist');
    const off = await makeRunner({ policy: { workloads: ['pot', 'bench'], execAllowlist: [cmd] } });
    const b = assignment('exec', { command: cmd });
    off.runner.assign(b);
    expect(off.ports.final(b.job)?.reason).toContain('exec jobs are disabled');
    expect(ports.usages).toHaveLength(0);
  });

  it('scrubs the environment: none of the agent\'s variables reach the job', async () => {
    process.env.CAPANODE_TEST_SECRET = 'hunter2';
    try {
      const cmd = script('env');
      const { runner, ports, dir } = await makeRunner({ policy: { execAllowlist: [cmd] }, devices: [{ uuid: GPU, index: 0 }] });
      const a = assignment('exec', { command: cmd, env: ['MODEL=tiny'] });
      runner.assign(a);
      await finished(ports, a.job);
      const env = readFileSync(join(dir, 'jobs', `${a.job}.log`), 'utf8');
      expect(env).not.toContain('hunter2');
      expect(env).not.toContain('CAPANODE_TEST_SECRET');
      expect(env).toContain('MODEL=tiny');
      expect(env).toContain(`CUDA_VISIBLE_DEVICES=${GPU}`);
      expect(env).toMatch(/^HOME=\/tmp\/capanode-job-/m);
      const names = env.split('\n').filter(Boolean).map((l) => l.split('=')[0]);
      expect(names.every((n) => ['PATH', 'HOME', 'TMPDIR', 'LANG', 'CUDA_VISIBLE_DEVICES', 'MODEL', 'CAPANODE_JOB', 'PWD', 'SHLVL', '_'].includes(n!))).toBe(true);
    } finally {
      delete process.env.CAPANODE_TEST_SECRET;
    }
  });

  it.runIf(process.getuid?.() === 0)('runs as the unprivileged workload user in a private directory removed afterwards', async () => {
    const cmd = script('id -u; pwd; touch ./written');
    const { runner, ports, dir } = await makeRunner({ policy: { execAllowlist: [cmd] } });
    const a = assignment('exec', { command: cmd });
    runner.assign(a);
    await finished(ports, a.job);
    expect(ports.final(a.job)?.state).toBe('done');
    const [uid, cwd] = readFileSync(join(dir, 'jobs', `${a.job}.log`), 'utf8').split('\n');
    expect(uid).toBe('65534');
    expect(cwd).toMatch(/capanode-job-/);
    expect(existsSync(cwd!)).toBe(false);
  });

  it('caps the kept output but digests all of stdout', async () => {
    const cmd = script('i=0; while [ $i -lt 20000 ]; do echo "line $i of a long output"; i=$((i+1)); done');
    const { runner, ports, dir } = await makeRunner({ policy: { execAllowlist: [cmd] } });
    const a = assignment('exec', { command: cmd, outputLimit: 4096 });
    runner.assign(a);
    await finished(ports, a.job);
    const expected = Array.from({ length: 20000 }, (_, i) => `line ${i} of a long output\n`).join('');
    expect(readFileSync(join(dir, 'jobs', `${a.job}.log`)).length).toBe(4096);
    expect(ports.usages[0]?.outputSha256).toBe(createHash('sha256').update(expected).digest('hex'));
  });

  const forker = (pidFile: string) =>
    script(
      [
        `trap '' TERM`,
        // a grandchild in the group, one that leaves it with setsid, and one that outlives its parent
        `(trap '' TERM; sleep 1000) & echo $! >> ${pidFile}`,
        `setsid sh -c 'trap "" TERM; echo $$ >> ${pidFile}; exec sleep 1000' &`,
        `sh -c 'sleep 1000 & echo $! >> ${pidFile}' &`,
        `echo $$ >> ${pidFile}`,
        'sleep 1000',
      ].join('\n'),
    );

  for (const how of ['timeout', 'cancel'] as const) {
    it(`kills the whole process tree on ${how}`, async () => {
      const pidDir = tempDir();
      const { chmodSync } = await import('node:fs');
      chmodSync(pidDir, 0o777);
      const pidFile = join(pidDir, 'pids');
      const cmd = forker(pidFile);
      const { runner, ports } = await makeRunner({ policy: { execAllowlist: [cmd] } });
      const a = assignment('exec', { command: cmd }, how === 'timeout' ? 1_500 : 60_000);
      runner.assign(a);
      await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim().split('\n').length >= 4, 10_000, 'the job to start its tree');
      const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
      expect(pids.every((p) => !dead(p))).toBe(true);
      if (how === 'cancel') runner.cancel({ t: 'cancel', job: a.job, reason: 'customer withdrew', sig: '0'.repeat(128) });
      await finished(ports, a.job);
      expect(ports.final(a.job)).toMatchObject({ state: how === 'timeout' ? 'timeout' : 'cancelled', usageSeq: 1 });
      await until(() => pids.every(dead), 5_000, 'every process of the tree to die');
      expect(ports.usages[0]).toMatchObject({ exitCode: null, outputSha256: null });
    });
  }

  it('runs one job per device and rejects more with a reason', async () => {
    const cmd = script('sleep 1000');
    const { runner, ports } = await makeRunner({ policy: { execAllowlist: [cmd] } });
    const a = assignment('exec', { command: cmd });
    const b = assignment('exec', { command: cmd });
    runner.assign(a);
    runner.assign(b);
    expect(ports.final(b.job)?.reason).toMatch(/^busy/);
    expect(runner.jobs()).toEqual([expect.objectContaining({ job: a.job, workload: 'exec', state: 'running', device: 'cpu' })]);
    // The same assignment again is answered with its state, not run twice.
    runner.assign(a);
    expect(ports.updates.filter((u) => u.job === a.job).map((u) => u.state)).toEqual(['accepted', 'running', 'running']);
  });
});

describe('restarts and a full journal', () => {
  it('reports a job cut short by a restart as failed (agent-restarted), with its usage, and kills what it left', async () => {
    const cmd = script('sleep 1000');
    const dir = tempDir();
    const first = await makeRunner({ dir, policy: { execAllowlist: [cmd] } });
    const a = assignment('exec', { command: cmd });
    first.runner.assign(a);
    const state = readJobsFile(join(dir, 'jobs.json'));
    const pid = state.running[0]?.pid;
    expect(pid).toBeTypeOf('number');
    expect(readStat(pid!)).not.toBeNull();
    // The agent dies without stopping its runner: a new one starts on the same state file.
    runners.splice(runners.indexOf(first.runner), 1);
    const second = await makeRunner({ dir, policy: { execAllowlist: [cmd] } });
    expect(second.ports.final(a.job)).toMatchObject({ state: 'failed', reason: 'agent-restarted', usageSeq: 1 });
    expect(second.ports.usages[0]).toMatchObject({ job: a.job, workload: 'exec', exitCode: null, outputSha256: null });
    await until(() => dead(pid!), 5_000, 'the orphaned job to be killed');
    expect(readJobsFile(join(dir, 'jobs.json'))).toEqual({ v: 1, running: [], owed: [] });
  });

  it('keeps a finished job\'s usage while the journal cannot take it, and signs it when it can', async () => {
    const cmd = script('exit 0');
    const ports = recordingPorts();
    ports.failAppends = 2;
    const { runner, dir } = await makeRunner({ ports, policy: { execAllowlist: [cmd] } });
    const a = assignment('exec', { command: cmd });
    runner.assign(a);
    await until(() => readJobsFile(join(dir, 'jobs.json')).owed.length === 1 || ports.usages.length === 1, 10_000, 'the job to end');
    await finished(ports, a.job);
    expect(ports.failAppends).toBe(0);
    expect(ports.usages).toHaveLength(1);
    expect(ports.final(a.job)).toMatchObject({ state: 'done', usageSeq: 1 });
  });
});

describe('pot jobs', () => {
  it('give the same digest on two nodes for the same seed, and a different one for another seed', async () => {
    const params = { seed: 'ab'.repeat(32), n: 64, reps: 2 };
    const one = await makeRunner();
    const two = await makeRunner();
    const a = assignment('pot', params);
    const b = assignment('pot', params);
    const c = assignment('pot', { ...params, seed: 'cd'.repeat(32) });
    one.runner.assign(a);
    two.runner.assign(b);
    await Promise.all([finished(one.ports, a.job), finished(two.ports, b.job)]);
    two.runner.assign(c);
    await finished(two.ports, c.job);
    const [ua, ub, uc] = [one.ports.usages[0], two.ports.usages[0], two.ports.usages[1]];
    expect(ua?.outputSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(ub?.outputSha256).toBe(ua?.outputSha256);
    expect(uc?.outputSha256).not.toBe(ua?.outputSha256);
  });

  it('rejects bad params, naming the parameter', async () => {
    const { runner, ports } = await makeRunner();
    const a = assignment('pot', { seed: 'xyz', n: 100, reps: 1 });
    runner.assign(a);
    expect(ports.final(a.job)?.reason).toMatch(/params\.seed/);
    expect(ports.final(a.job)?.reason).toMatch(/params\.n/);
  });
});
