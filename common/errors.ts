/**
 * One error type for the whole product. Every failure a user or operator can
 * see carries a stable `code` from the registry below (documented in
 * docs/ERRORS.md, checked by a test), a message naming the problem, and a
 * `hint` saying what to do about it.
 */
export const ERROR_CODES = {
  // Canonical JSON and records (proofs/)
  'non-canonical': 'A value cannot be encoded as canonical JSON (float, NaN, bigint, undefined, function, non-ASCII key).',
  schema: 'A record, message or file does not match its schema.',
  'bad-signature': 'An Ed25519 signature does not verify for the claimed key.',
  'broken-chain': 'A record\'s prev hash is not the hash of the record before it.',
  'seq-gap': 'Sequence numbers are not contiguous.',
  'duplicate-seq': 'The same record appears twice for one seq.',
  equivocation: 'Two different records were signed for the same node and seq.',
  'bad-key': 'A key or key file is malformed.',
  'key-permissions': 'A key file is readable by group or others.',
  'pot-invalid': 'A Proof of Throughput reveal does not match the committed root.',
  // Files, config, CLI
  'bad-input': 'An input file or argument is malformed.',
  'config-invalid': 'The configuration file or an override has an unknown key or a bad value.',
  'io-error': 'A file could not be read or written.',
  'job-state-invalid': 'The job runner\'s state file (jobs.json) is not readable JSON in the expected format.',
  // Journal
  'journal-corrupt': 'The journal database failed its integrity check.',
  'journal-locked': 'Another process holds the journal.',
  'journal-durability': 'The journal could not be opened with WAL and synchronous=FULL.',
  'journal-full': 'The disk is full or the journal is read-only; nothing was signed.',
  'journal-conflict': 'A different envelope was offered for a seq the journal already holds.',
  'journal-schema': 'The journal was written by a newer version of capanode.',
  'journal-wrong-node': 'The journal belongs to another node id than the key in use.',
  'journal-io': 'The journal could not be written (I/O error); nothing was signed.',
  'journal-ack': 'The coordinator acknowledged or rejected a seq the journal does not hold.',
  'journal-missing': 'There is no journal at the expected path.',
  // Probe
  'probe-failed': 'nvidia-smi or the host probe failed.',
  'probe-output-invalid': 'nvidia-smi printed output the probe cannot read (malformed, truncated, or not from nvidia-smi).',
  // Native addon
  'native-unavailable': 'The native addon or the GPU driver is not available.',
  'native-failed': 'A native benchmark failed.',
  // Link and coordinator
  'link-error': 'The connection to the coordinator failed.',
  'coordinator-untrusted': 'A coordinator message was not signed by the pinned key.',
  'bad-message': 'A link message is not JSON, has an unknown type, or does not match its schema.',
  'wrong-node': 'A record was signed by another node than the one authenticated on the connection.',
  'clock-skew': 'A record is stamped more than 5 minutes in the coordinator\'s future.',
  'unexpected-message': 'A message arrived where the protocol does not allow it (e.g. a commit for no open challenge).',
  // Coordinator store
  'store-unavailable': 'The coordinator\'s store could not commit; nothing was acknowledged.',
  'store-durability': 'The coordinator store could not be opened with WAL and synchronous=FULL.',
  'store-schema': 'The coordinator store was written by a newer version of capanode.',
  'daemon-not-running': 'The capanode daemon is not running.',
  // Rewards engine and simulator (coordinator/rewards, coordinator/sim)
  'reward-params-invalid': 'A reward parameter override is unknown, out of range, or breaks a rule tying parameters together.',
  'reward-facts-invalid': 'The facts given to the reward engine for an epoch are malformed or inconsistent.',
  'sim-options-invalid': 'A simulator option (nodes, epochs, seed, mix) is malformed.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface CapanodeErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Structured context for logs and --json output. Never put secrets here. */
  details?: Record<string, unknown>;
}

export class CapanodeError extends Error {
  override readonly name = 'CapanodeError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: CapanodeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export function isCapanodeError(e: unknown, code?: ErrorCode): e is CapanodeError {
  return e instanceof CapanodeError && (code === undefined || e.code === code);
}

/** A short, user-facing description of any thrown value. */
export function describeError(e: unknown): string {
  if (e instanceof CapanodeError) return e.hint === undefined ? `${e.code}: ${e.message}` : `${e.code}: ${e.message}\n  hint: ${e.hint}`;
  if (e instanceof Error) return e.message;
  return String(e);
}
