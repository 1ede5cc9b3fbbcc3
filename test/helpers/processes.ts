/**
 * Real agent and coordinator processes on 127.0.0.1 for end-to-end tests:
 * the built CLIs (npm test builds dist/ first), each in its own directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { AGENT_CLI, COORDINATOR_CLI, runCli } from './cli.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Proc {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startProcess(cli: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Proc {
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, CAPANODE_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd === undefined ? {} : { cwd }) });
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString('utf8');
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => out,
    exited,
    kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface CoordinatorSetup {
  dir: string;
  keyFile: string;
  store: string;
  id: string;
  port: number;
  url: string;
  start(extra?: string[]): Proc;
}

/** A coordinator key and store in dir, served on a fixed free port so agents reconnect after restarts. */
export async function setupCoordinator(dir: string, options: { store?: string } = {}): Promise<CoordinatorSetup> {
  const keyFile = join(dir, 'coordinator.key');
  const init = await runCli(['init', '--key', keyFile, '--json'], { cli: COORDINATOR_CLI });
  if (init.code !== 0) throw new Error(`coordinator init failed: ${init.stderr}`);
  const id = (JSON.parse(init.stdout) as { publicKey?: string; id?: string; coordinator?: string }).publicKey ?? '';
  const port = await freePort();
  const store = options.store ?? `sqlite:${join(dir, 'ledger.db')}`;
  return {
    dir,
    keyFile,
    store,
    id,
    port,
    url: `ws://127.0.0.1:${port}`,
    start: (extra = []) => startProcess(COORDINATOR_CLI, ['serve', '--listen', `127.0.0.1:${port}`, '--store', store, '--key', keyFile, '--pot-enabled', 'false', '--verify-workers', '0', ...extra]),
  };
}

/** An initialised agent data dir pointing at the coordinator, with test intervals. */
export async function setupAgent(dir: string, coordinator: { url: string; id: string }, config: Record<string, unknown> = {}): Promise<{ dir: string; nodeId: string; start(extra?: string[]): Proc }> {
  const init = await runCli(['init', '--data-dir', dir, '--coordinator', coordinator.url, '--coordinator-key', coordinator.id, '--json']);
  if (init.code !== 0) throw new Error(`agent init failed: ${init.stderr}`);
  const nodeId = (JSON.parse(init.stdout) as { node: string }).node;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ coordinatorUrl: coordinator.url, coordinatorKey: coordinator.id, heartbeatIntervalMs: 100, metricsListen: 'off', benchOnStart: false, ...config }));
  // No nvidia-smi on PATH in tests unless a test puts the fake one there.
  return { dir, nodeId, start: (extra = []) => startProcess(AGENT_CLI, ['start', '--data-dir', dir, ...extra]) };
}

export function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = async () => {
      let met = false;
      try {
        met = await cond();
      } catch {
        // not there yet (a file not created, a process not listening)
      }
      if (met) resolve();
      else if (Date.now() - t0 > timeoutMs) reject(new Error(`${what} not met within ${timeoutMs} ms`));
      else setTimeout(() => void tick(), 25);
    };
    void tick();
  });
}
