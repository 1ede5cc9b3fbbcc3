import { CommanderError, type Command } from 'commander';
import { CapanodeError, describeError } from './errors.js';

/** DESIGN §3 exit codes. */
export const EXIT = { ok: 0, failure: 1, usage: 2, daemonNotRunning: 3, nothingToClaim: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Raised by a command to end with a specific exit code after printing its own output. */
export class ExitWith extends Error {
  constructor(readonly exitCode: ExitCode, message = '') {
    super(message);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Wraps a command's action: a CapanodeError becomes a one-line message (and
 * its hint) on stderr, or a JSON error document on stdout with --json, and
 * exit 1. Nothing reaches the user as a stack trace unless CAPANODE_DEBUG is set.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (e instanceof ExitWith) {
        if (e.message !== '') process.stderr.write(`${e.message}\n`);
        process.exitCode = e.exitCode;
        return;
      }
      const json = args.some((a) => typeof a === 'object' && a !== null && (a as { json?: unknown }).json === true);
      if (json) printJson({ ok: false, error: e instanceof CapanodeError ? e.toJSON() : { code: 'internal', message: describeError(e) } });
      process.stderr.write(`capanode: ${describeError(e)}\n`);
      if (process.env['CAPANODE_DEBUG'] !== undefined && e instanceof Error && e.stack !== undefined) process.stderr.write(`${e.stack}\n`);
      process.exitCode = EXIT.failure;
    }
  };
}

/** Parses argv with a program built with exitOverride(): commander's own errors become exit 2 (usage). */
export async function runProgram(program: Command, argv: readonly string[] = process.argv): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
}
