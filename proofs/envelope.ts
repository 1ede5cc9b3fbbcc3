/**
 * Attestation envelopes and records (DESIGN §4): schemas, build, sign, verify.
 *
 *   env  = {"v":1,"kind","node","seq","prev","time","body"}
 *   hash = SHA-256(canonical(env))
 *   sig  = Ed25519(secret, "capanode:attestation:v1\n" ++ canonical(env))
 *   record = {"env":env,"sig":HEX128}
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CapanodeError, type ErrorCode } from '../common/errors.js';
import { canonicalize, CanonicalError } from './canonical.js';
import { HEX128, HEX64, sign, toHex, verify, type KeyPair } from './keys.js';

export const ATTESTATION_DOMAIN = 'capanode:attestation:v1\n';
export const ZERO_HASH = '0'.repeat(64);
export const KINDS = ['uptime', 'throughput', 'usage', 'claim'] as const;
export type Kind = (typeof KINDS)[number];

const hex64 = z.string().regex(HEX64, 'must be 64 lowercase hex characters');
const hex32 = z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex characters');
const hex128 = z.string().regex(HEX128, 'must be 128 lowercase hex characters');
const int = z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const uint = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const ms = uint;
/** Identifiers chosen by a coordinator: challenge and job ids. */
export const IdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ : -');
/** A GPU or MIG instance UUID as nvidia-smi prints it. */
export const GpuUuidSchema = z.string().regex(/^(?:GPU|MIG)-[A-Za-z0-9-]{1,96}$/, 'must be a GPU-/MIG- UUID as nvidia-smi prints it');

export const UptimeBodySchema = z.strictObject({
  from: ms,
  to: ms,
  beacon: hex32.nullable(),
  gpus: z
    .array(
      z.strictObject({
        uuid: GpuUuidSchema,
        util: uint.max(100).nullable(),
        memUsedMiB: uint.nullable(),
        tempC: int.nullable(),
        powerMw: uint.nullable(),
        smClockMhz: uint.nullable(),
      }),
    )
    .max(64),
  host: z.strictObject({ uptimeS: uint, load1Milli: uint }),
});

/** The coordinator's signed PoT verdict, embedded as it was received (DESIGN §5, §6). */
export const VerdictSchema = z.strictObject({
  t: z.literal('verdict'),
  id: IdSchema,
  ok: z.boolean(),
  gflops: uint,
  reason: z.string().max(256).nullable(),
  sig: hex128,
});

export const ThroughputBodySchema = z.strictObject({
  challenge: IdSchema.nullable(),
  device: z.union([GpuUuidSchema, z.literal('cpu')]),
  n: uint,
  reps: uint,
  dtype: z.literal('f16'),
  root: hex64.nullable(),
  elapsedUs: uint,
  local: z.strictObject({
    memBwMBps: uint.nullable(),
    fp32Gflops: uint.nullable(),
    tensorGflops: uint.nullable(),
    h2dMBps: uint.nullable(),
    d2hMBps: uint.nullable(),
  }),
  verdict: VerdictSchema.nullable(),
});

export const WORKLOAD_KINDS = ['pot', 'bench', 'container', 'exec'] as const;

export const UsageBodySchema = z.strictObject({
  job: IdSchema,
  workload: z.enum(WORKLOAD_KINDS),
  device: z.union([GpuUuidSchema, z.literal('cpu')]),
  startedAt: ms,
  endedAt: ms,
  gpuMs: uint,
  energyMj: uint,
  exitCode: int.nullable(),
  outputSha256: hex64.nullable(),
});

export const ClaimBodySchema = z.strictObject({
  amount: uint.min(1),
  to: z.string().min(1).max(128),
  epochs: z.tuple([uint, uint]),
});

export type UptimeBody = z.infer<typeof UptimeBodySchema>;
export type ThroughputBody = z.infer<typeof ThroughputBodySchema>;
export type UsageBody = z.infer<typeof UsageBodySchema>;
export type ClaimBody = z.infer<typeof ClaimBodySchema>;
export interface BodyOf {
  uptime: UptimeBody;
  throughput: ThroughputBody;
  usage: UsageBody;
  claim: ClaimBody;
}

const envelopeFields = {
  v: z.literal(1),
  node: hex64,
  seq: uint.min(1),
  prev: hex64,
  time: ms,
};

export const EnvelopeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...envelopeFields, kind: z.literal('uptime'), body: UptimeBodySchema }),
  z.strictObject({ ...envelopeFields, kind: z.literal('throughput'), body: ThroughputBodySchema }),
  z.strictObject({ ...envelopeFields, kind: z.literal('usage'), body: UsageBodySchema }),
  z.strictObject({ ...envelopeFields, kind: z.literal('claim'), body: ClaimBodySchema }),
]);
export type Envelope = z.infer<typeof EnvelopeSchema>;

export const RecordSchema = z.strictObject({ env: EnvelopeSchema, sig: hex128 });
export interface SignedRecord {
  env: Envelope;
  sig: string;
}

/** A record that passed every check, with its canonical text and hash. */
export interface VerifiedRecord {
  record: SignedRecord;
  /** canonical(env) */
  canonical: string;
  /** SHA-256(canonical(env)), lowercase hex. */
  hash: string;
}

export type RecordErrorCode = Extract<ErrorCode, 'schema' | 'non-canonical' | 'bad-signature'>;

export interface RecordProblem {
  code: RecordErrorCode;
  /** Path to the offending field, e.g. `env.body.gpus[0].util`; '' for the whole record. */
  path: string;
  message: string;
}

export function hashCanonical(canonical: string): string {
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

export function signingMessage(canonical: string): Buffer {
  return Buffer.from(ATTESTATION_DOMAIN + canonical, 'utf8');
}

/** hash(env) per DESIGN §4. Throws CanonicalError for an envelope that cannot be encoded. */
export function hashEnvelope(env: Envelope): string {
  return hashCanonical(canonicalize(env));
}

function zodPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

/** Every schema problem of a zod error, as one readable line per field. */
export function describeZodIssues(error: z.ZodError, prefix = ''): { path: string; message: string }[] {
  return error.issues.map((i) =>
    // zod reports unknown keys on their parent object; name the key itself.
    i.code === 'unrecognized_keys'
      ? { path: zodPath(prefix, [...i.path, i.keys[0] ?? '']), message: `unknown field (${i.keys.join(', ')}); remove it` }
      : { path: zodPath(prefix, i.path), message: i.message },
  );
}

export interface EnvelopeInput<K extends Kind> {
  kind: K;
  node: string;
  seq: number;
  prev: string;
  time: number;
  body: BodyOf[K];
}

/** Builds and validates an envelope; throws CapanodeError('schema' | 'non-canonical') naming the field. */
export function buildEnvelope<K extends Kind>(input: EnvelopeInput<K>): Envelope {
  const candidate = { v: 1, kind: input.kind, node: input.node, seq: input.seq, prev: input.prev, time: input.time, body: input.body };
  canonicalize(candidate, 'env');
  const parsed = EnvelopeSchema.safeParse(candidate);
  if (!parsed.success) {
    const issues = describeZodIssues(parsed.error, 'env');
    throw new CapanodeError('schema', issues.map((i) => `${i.path}: ${i.message}`).join('; '), { details: { issues } });
  }
  return parsed.data;
}

/** Signs an envelope with node:crypto. The key must be the envelope's node. */
export function signEnvelope(env: Envelope, key: KeyPair): VerifiedRecord {
  if (env.node !== key.id) throw new CapanodeError('bad-key', `envelope node ${env.node} is not the signing key ${key.id}`);
  const canonical = canonicalize(env, 'env');
  const sig = toHex(sign(signingMessage(canonical), key));
  return { record: { env, sig }, canonical, hash: hashCanonical(canonical) };
}

/**
 * Checks an untrusted value as a record: canonical encodability, schema, and
 * the node's signature. Never throws; returns the first problem found, in that
 * order, so a float in a body is `non-canonical` rather than a schema error.
 */
export function checkRecord(raw: unknown): { ok: true; value: VerifiedRecord } | { ok: false; problem: RecordProblem } {
  let canonical: string;
  try {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      return { ok: false, problem: { code: 'schema', path: '', message: 'a record must be an object {"env":{...},"sig":HEX128}' } };
    }
    canonical = canonicalize((raw as { env?: unknown }).env, 'env');
  } catch (e) {
    if (e instanceof CanonicalError) return { ok: false, problem: { code: 'non-canonical', path: e.path, message: e.message } };
    throw e;
  }
  const parsed = RecordSchema.safeParse(raw);
  if (!parsed.success) {
    const first = describeZodIssues(parsed.error)[0] ?? { path: '', message: 'invalid record' };
    return { ok: false, problem: { code: 'schema', path: first.path, message: `${first.path === '' ? '(root)' : first.path}: ${first.message}` } };
  }
  const record = parsed.data;
  if (!verify(signingMessage(canonical), Buffer.from(record.sig, 'hex'), record.env.node)) {
    return { ok: false, problem: { code: 'bad-signature', path: 'sig', message: `sig: signature does not verify for node ${record.env.node} at seq ${record.env.seq}` } };
  }
  return { ok: true, value: { record, canonical, hash: hashCanonical(canonical) } };
}

/** The JSON Lines form of a record (`journal export`, the wire): canonical, so byte-stable. */
export function recordLine(record: SignedRecord): string {
  return canonicalize(record);
}
