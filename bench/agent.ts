/**
 * agent.rssMB and agent.cpuPercent: a real agent process at its default
 * intervals (heartbeat 30 s, telemetry 1 s, metrics on) streaming to a
 * separate coordinator process, measured from /proc over 60 s after warm-up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goal, type BenchSuite } from './suite.js';

const AGENT = fileURLToPath(new URL('../agent/cli.js', import.meta.url));
const COORDINATOR = fileURLToPath(new URL('../coordinator/cli.js', import.meta.url));
const TICKS = 100; // USER_HZ on Linux

function run(cli: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [cli, ...args], { stdio: 'ignore', env: { ...process.env, CAPANODE_LOG_LEVEL: 'warn' } });
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) / 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function execJson(cli: string, args: string[]): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  await new Promise((r) => child.once('exit', r));
  return JSON.parse(out) as Record<string, unknown>;
}

export const agentSuite: BenchSuite = {
  name: 'agent',
  async run() {
    if (process.platform !== 'linux') return { skipped: 'needs /proc (Linux)' };
    const dir = mkdtempSync(join(tmpdir(), 'capanode-bench-agent-'));
    const measureMs = Number(process.env['BENCH_AGENT_SECONDS'] ?? '60') * 1000;
    let coordinator: ChildProcess | null = null;
    let agent: ChildProcess | null = null;
    try {
      const key = join(dir, 'coordinator.key');
      const { publicKey } = (await execJson(COORDINATOR, ['init', '--key', key, '--json'])) as { publicKey: string };
      const port = 20_000 + Math.floor(Math.random() * 20_000);
      coordinator = run(COORDINATOR, ['serve', '--listen', `127.0.0.1:${port}`, '--store', `sqlite:${join(dir, 'ledger.db')}`, '--key', key]);
      const agentDir = join(dir, 'agent');
      await execJson(AGENT, ['init', '--data-dir', agentDir, '--coordinator', `ws://127.0.0.1:${port}`, '--coordinator-key', publicKey, '--json']);
      // Default intervals; only the metrics port is moved off 9750 so a running agent is not disturbed.
      writeFileSync(join(agentDir, 'config.json'), JSON.stringify({ coordinatorUrl: `ws://127.0.0.1:${port}`, coordinatorKey: publicKey, metricsListen: '127.0.0.1:0' }));
      agent = run(AGENT, ['start', '--data-dir', agentDir]);
      const pid = agent.pid;
      if (pid === undefined) throw new Error('agent did not start');
      await sleep(10_000); // start-up and the first benchmark are not steady state
      const t0 = performance.now();
      const c0 = cpuTicks(pid);
      let peak = 0;
      while (performance.now() - t0 < measureMs) {
        await sleep(1_000);
        peak = Math.max(peak, rssMB(pid));
      }
      const seconds = (performance.now() - t0) / 1000;
      const cpuPercent = Math.round(((cpuTicks(pid) - c0) / TICKS / seconds) * 1000) / 10;
      return {
        seconds: Math.round(seconds),
        rssMB: goal(Math.round(peak * 10) / 10, '<=', 100),
        cpuPercent: goal(cpuPercent, '<=', 1),
      };
    } finally {
      agent?.kill('SIGTERM');
      coordinator?.kill('SIGTERM');
      await sleep(1_000);
      agent?.kill('SIGKILL');
      coordinator?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
