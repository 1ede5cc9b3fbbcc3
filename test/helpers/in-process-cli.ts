import { Command } from 'commander';
import { vi } from 'vitest';

/** Runs commands registered on a fresh commander program in this process, capturing stdout, stderr and the exit code. */
export async function runInProcess(register: (program: Command) => void, argv: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    const program = new Command().exitOverride();
    register(program);
    await program.parseAsync(['node', 'capanode-coordinator', ...argv]);
    return { stdout, stderr, exitCode: Number(process.exitCode ?? 0) };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = 0;
  }
}
