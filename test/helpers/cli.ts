import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const AGENT_CLI = fileURLToPath(new URL('../../dist/agent/cli.js', import.meta.url));
export const COORDINATOR_CLI = fileURLToPath(new URL('../../dist/coordinator/cli.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a built CLI (npm test builds dist/ first) and collects its output. */
export function runCli(args: string[], options: { cli?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.cli ?? AGENT_CLI, ...args], {
      env: { ...process.env, CAPANODE_LOG_LEVEL: 'warn', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 20_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
