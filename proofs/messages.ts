/**
 * The link protocol's messages (DESIGN §5, docs/PROTOCOL.md §5): one schema
 * per frame type, discriminated by `t`, every object strict and every string,
 * number and array bounded, so both ends can parse untrusted frames without
 * trusting their size or shape. Also the coordinator's and the agent's
 * signatures over them, the close and nack codes, and the frame limits.
 *
 * Pure: no I/O, no clocks. The agent's link client and the coordinator both
 * build on this module, so a field changes here or nowhere.
 */
import { z } from 'zod';
import { CapanodeError, type ErrorCode } from '../common/errors.js';
import { canonicalize } from './canonical.js';
import { describeZodIssues, GpuUuidSchema, IdSchema, VerdictSchema, WORKLOAD_KINDS } from './envelope.js';
import { HEX128, HEX64, sign, toHex, verify, type KeyPair } from './keys.js';
import { POT_MAX_CHECKS, POT_MAX_N, POT_MAX_REPS, POT_MIN_N, POT_N_MULTIPLE, POT_DIGEST_BYTES } from './pot.js';
import { maxAuditPathLength } from './merkle.js';

export const PROTOCOL_VERSION = 1;
export const COORDINATOR_DOMAIN = 'capanode:coordinator:v1\n';
export const AUTH_DOMAIN = 'capanode:auth:v1\n';

/** The largest frame either side accepts (UTF-8 bytes of the text frame); the WebSocket layer's maxPayload. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** The most records one `att` frame may carry. */
export const MAX_ATT_RECORDS = 256;
/** Records stamped further than this in the coordinator's future are refused (`clock-skew`). */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/**
 * WebSocket close codes. 1009 comes from the WebSocket layer itself for a
 * frame over MAX_FRAME_BYTES; 4009 is the protocol's own "too big" (an `att`
 * frame with more than MAX_ATT_RECORDS records). A client treats both alike.
 */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  frameTooBig: 1009,
  internalError: 1011,
  authFailed: 4001,
  unsupportedProto: 4002,
  alreadyConnected: 4003,
  rateLimited: 4008,
  tooBig: 4009,
  fork: 4010,
  banned: 4011,
} as const;
export type CloseCode = (typeof CLOSE)[keyof typeof CLOSE];

/** Codes a `nack` may carry: each is a registered ErrorCode (common/errors.ts). */
export const NACK_CODES = [
  'bad-message',
  'non-canonical',
  'schema',
  'bad-signature',
  'wrong-node',
  'seq-gap',
  'broken-chain',
  'equivocation',
  'clock-skew',
  'unexpected-message',
  'store-unavailable',
] as const satisfies readonly ErrorCode[];
export type NackCode = (typeof NACK_CODES)[number];

/**
 * Why the coordinator refused a claim record it stored (`claim-refused`).
 * The record stays in the node's chain and is acknowledged like any other:
 * a refusal is about the money, not about the record.
 */
export const CLAIM_REFUSED_CODES = [
  /** More than the node has earned and not yet claimed in the epochs named. */
  'over-claim',
  /** Earned, but not vested yet at the claim's time. */
  'not-vested',
  /** The epoch range is reversed or names an epoch that has not closed. */
  'bad-epochs',
  /** The node is banned (proven fraud): nothing is paid. */
  'banned',
] as const;
export type ClaimRefusedCode = (typeof CLAIM_REFUSED_CODES)[number];

/** Reputation in an `account` is an integer in parts per 10^12 (coordinator/rewards REP_ONE). */
export const ACCOUNT_REPUTATION_ONE = 1_000_000_000_000;
/** The most penalty lines one `account` carries (the most recent ones). */
export const MAX_ACCOUNT_PENALTIES = 32;

// ---------------------------------------------------------------------------
// Field schemas

const hex32 = z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex characters');
const hex64 = z.string().regex(HEX64, 'must be 64 lowercase hex characters');
const hex128 = z.string().regex(HEX128, 'must be 128 lowercase hex characters');
const uint = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const ms = uint;
const seq = uint.min(1);
const text = (max: number) => z.string().max(max);

/** `agent` in auth: NAME/VERSION, e.g. capanode/0.1.0. */
export const AgentStringSchema = z.string().regex(/^[A-Za-z0-9._-]{1,32}\/[0-9A-Za-z.+-]{1,32}$/, 'must be NAME/VERSION, e.g. capanode/0.1.0');

/** The GPUs the agent found (probe). An agent with no GPU sends an empty list. */
export const InventorySchema = z.strictObject({
  gpus: z
    .array(
      z.strictObject({
        uuid: GpuUuidSchema,
        name: z.string().min(1).max(128),
        memoryMiB: uint.max(16 * 1024 * 1024),
        /** The enforced power limit (W) nvidia-smi reports; absent when unknown. Bounds the energy a usage record may claim. */
        powerLimitW: uint.min(1).max(10_000).optional(),
      }),
    )
    .max(64),
});
export type Inventory = z.infer<typeof InventorySchema>;

export const HeadSchema = z.strictObject({ seq, hash: hex64 });
export type Head = z.infer<typeof HeadSchema>;

const potN = z
  .number()
  .int()
  .min(POT_MIN_N)
  .max(POT_MAX_N)
  .refine((n) => n % POT_N_MULTIPLE === 0, `must be a multiple of ${POT_N_MULTIPLE}`);
const potReps = z.number().int().min(1).max(POT_MAX_REPS);
const device = z.union([GpuUuidSchema, z.literal('cpu')]);
/** Longest base64 text of one rep's digests (n = 4096). */
const MAX_DIGESTS_CHARS = 4 * Math.ceil((POT_MAX_N * POT_DIGEST_BYTES) / 3);
/** A challenge's `deadlineMs` (a duration) is at most a day. */
export const MAX_DEADLINE_MS = 86_400_000;

// Job parameters: a flat, bounded object of scalars and string lists (never code).
const paramValue = z.union([z.string().max(4096), z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER), z.boolean(), z.null(), z.array(z.string().max(4096)).max(256)]);
export const JobParamsSchema = z
  .record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'keys must be 1-64 characters of A-Z a-z 0-9 _ . -'), paramValue)
  .refine((p) => Object.keys(p).length <= 64, 'must have at most 64 keys');

/** A `pot` job's params: a PoT run for the given seed; deterministic, so redundant runs can be compared. */
export const PotJobParamsSchema = z.strictObject({
  seed: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters'),
  n: potN,
  reps: potReps,
});

// ---------------------------------------------------------------------------
// Coordinator -> agent

export const HelloSchema = z.strictObject({
  t: z.literal('hello'),
  // Any integer, so an agent can tell an unsupported version (close 4002) from garbage.
  proto: uint,
  coordinator: hex64,
  nonce: hex32,
  time: ms,
  sig: hex128,
});
export const BeaconSchema = z.strictObject({ t: z.literal('beacon'), id: hex32, time: ms, sig: hex128 });
export const WelcomeSchema = z.strictObject({
  t: z.literal('welcome'),
  /** The last record the coordinator holds for this node, or null when it holds none. */
  head: HeadSchema.nullable(),
  /** The current beacon, so the first uptime record can cite one. */
  beacon: BeaconSchema,
  /** The coordinator's clock when it sent this (ms): lets the agent see its own skew. */
  time: ms,
});
export const AckSchema = z.strictObject({ t: z.literal('ack'), seq });
export const NackSchema = z.strictObject({
  t: z.literal('nack'),
  /** The rejected record's seq; null when the frame itself was rejected. */
  seq: seq.nullable(),
  code: z.enum(NACK_CODES),
  message: text(512),
  /** The seq the coordinator expects next from this node: resend from here. */
  expected: seq,
});
export const ChallengeSchema = z.strictObject({
  t: z.literal('challenge'),
  id: IdSchema,
  seed: hex64,
  n: potN,
  reps: potReps,
  dtype: z.literal('f16'),
  /** Duration (ms): the commit must reach the coordinator this long after it sent the challenge, the reveal this long after it sent `open`. */
  deadlineMs: uint.min(1).max(MAX_DEADLINE_MS),
  sig: hex128,
});
export const OpenSchema = z.strictObject({
  t: z.literal('open'),
  id: IdSchema,
  checks: z.array(z.tuple([uint.max(POT_MAX_REPS - 1), uint.max(POT_MAX_N - 1)])).min(1).max(POT_MAX_CHECKS),
});
export const AssignSchema = z.strictObject({
  t: z.literal('assign'),
  job: IdSchema,
  workload: z.enum(WORKLOAD_KINDS),
  params: JobParamsSchema,
  /** Duration (ms) the job may run. */
  deadlineMs: uint.min(1).max(MAX_DEADLINE_MS),
  sig: hex128,
});
/** The coordinator withdraws a job it assigned: the agent kills it (the whole process tree) and reports `cancelled`. */
export const CancelSchema = z.strictObject({
  t: z.literal('cancel'),
  job: IdSchema,
  reason: text(256),
  sig: hex128,
});
export const ReceiptSchema = z.strictObject({
  t: z.literal('receipt'),
  /** The seq of the node's claim record this pays. */
  claimSeq: seq,
  amount: uint,
  epochs: z.tuple([uint, uint]),
  sig: hex128,
});

const epochRange = z.tuple([uint, uint]);

/** A penalty line of a closed epoch, as the reward engine wrote it (docs/INCENTIVES.md). */
export const AccountPenaltySchema = z.strictObject({
  epoch: uint,
  kind: z.string().regex(/^[a-z][a-z-]{0,31}$/, 'must be a penalty kind such as failed-check or downtime'),
  count: uint,
  /** Stake slashed (micro-credits). */
  slashed: uint,
  /** Unvested credits forfeited (micro-credits). */
  forfeited: uint,
  note: text(512),
});

/** The node's earnings as the coordinator's ledger holds them; amounts in micro-credits. */
export const AccountSchema = z.strictObject({
  t: z.literal('account'),
  /** The last closed epoch; null before the first close. */
  epoch: uint.nullable(),
  /** The smallest epoch range holding every claimable credit: what a claim should name; null when nothing is claimable. */
  claimEpochs: epochRange.nullable(),
  /** What the node earned in the last closed epoch: the run rate for the epoch under way; null before any. */
  estimate: uint.nullable(),
  /** Everything earned, vested and unvested. */
  earned: uint,
  vested: uint,
  unvested: uint,
  /** Paid out by receipts. */
  claimed: uint,
  /** vested - claimed. */
  claimable: uint,
  /** Parts per 10^12 after the last closed epoch; null before any. */
  reputation: uint.max(ACCOUNT_REPUTATION_ONE).nullable(),
  /** Bonded stake now, after slashes. */
  stake: uint,
  /** The most recent penalty lines, oldest first. */
  penalties: z.array(AccountPenaltySchema).max(MAX_ACCOUNT_PENALTIES),
  /** The coordinator's clock: vesting is computed at this time. */
  time: ms,
  sig: hex128,
});

/** A claim record stored but not paid; amounts (micro-credits) as the ledger saw them at the claim's time. */
export const ClaimRefusedSchema = z.strictObject({
  t: z.literal('claim-refused'),
  claimSeq: seq,
  code: z.enum(CLAIM_REFUSED_CODES),
  message: text(512),
  requested: uint,
  /** In the epochs the claim named (for bad-epochs and banned: in all closed epochs). */
  vested: uint,
  unvested: uint,
  claimed: uint,
  claimable: uint,
  sig: hex128,
});

// ---------------------------------------------------------------------------
// Agent -> coordinator

export const AuthSchema = z.strictObject({
  t: z.literal('auth'),
  node: hex64,
  sig: hex128,
  agent: AgentStringSchema,
  inventory: InventorySchema,
});
/** Items are checked one by one as records (proofs/envelope.ts checkRecord), so each gets its own nack. */
export const AttSchema = z.strictObject({
  t: z.literal('att'),
  items: z.array(z.unknown()).min(1).max(MAX_ATT_RECORDS, `must hold at most ${MAX_ATT_RECORDS} records`),
});
export const CommitSchema = z.strictObject({
  t: z.literal('commit'),
  id: IdSchema,
  root: hex64,
  elapsedUs: uint.min(1),
  device,
});
/** The shape-independent bounds; pot.ts parseRevealItems checks lengths against the challenge's n and reps. */
export const RevealSchema = z.strictObject({
  t: z.literal('reveal'),
  id: IdSchema,
  items: z
    .array(
      z.strictObject({
        r: uint.max(POT_MAX_REPS - 1),
        digests: z.string().max(MAX_DIGESTS_CHARS),
        path: z.array(hex64).max(maxAuditPathLength(POT_MAX_REPS)),
      }),
    )
    .min(1)
    .max(POT_MAX_CHECKS),
});
/** accepted and running are interim; the others are final (done, failed, timeout and cancelled carry a usage record when the job ran). */
export const JOB_STATES = ['accepted', 'running', 'done', 'failed', 'timeout', 'cancelled', 'rejected'] as const;
export const FINAL_JOB_STATES = ['done', 'failed', 'timeout', 'cancelled', 'rejected'] as const satisfies readonly (typeof JOB_STATES)[number][];
export const JobSchema = z.strictObject({
  t: z.literal('job'),
  job: IdSchema,
  state: z.enum(JOB_STATES),
  /** Why a job failed or was rejected; null otherwise. */
  reason: text(256).nullable(),
  /** The seq of the usage record for a finished job; null otherwise. */
  usageSeq: seq.nullable(),
});

export type Hello = z.infer<typeof HelloSchema>;
export type Welcome = z.infer<typeof WelcomeSchema>;
export type Ack = z.infer<typeof AckSchema>;
export type Nack = z.infer<typeof NackSchema>;
export type Beacon = z.infer<typeof BeaconSchema>;
export type Challenge = z.infer<typeof ChallengeSchema>;
export type Open = z.infer<typeof OpenSchema>;
export type Verdict = z.infer<typeof VerdictSchema>;
export type Assign = z.infer<typeof AssignSchema>;
export type Cancel = z.infer<typeof CancelSchema>;
export type Receipt = z.infer<typeof ReceiptSchema>;
export type Account = z.infer<typeof AccountSchema>;
export type AccountPenalty = z.infer<typeof AccountPenaltySchema>;
export type ClaimRefused = z.infer<typeof ClaimRefusedSchema>;
export type Auth = z.infer<typeof AuthSchema>;
export type Att = z.infer<typeof AttSchema>;
export type Commit = z.infer<typeof CommitSchema>;
export type Reveal = z.infer<typeof RevealSchema>;
export type JobUpdate = z.infer<typeof JobSchema>;

const COORDINATOR_SCHEMAS = {
  hello: HelloSchema,
  welcome: WelcomeSchema,
  ack: AckSchema,
  nack: NackSchema,
  beacon: BeaconSchema,
  challenge: ChallengeSchema,
  open: OpenSchema,
  verdict: VerdictSchema,
  assign: AssignSchema,
  cancel: CancelSchema,
  receipt: ReceiptSchema,
  account: AccountSchema,
  'claim-refused': ClaimRefusedSchema,
} as const;
const AGENT_SCHEMAS = { auth: AuthSchema, att: AttSchema, commit: CommitSchema, reveal: RevealSchema, job: JobSchema } as const;

export type CoordinatorMessage = { [K in keyof typeof COORDINATOR_SCHEMAS]: z.infer<(typeof COORDINATOR_SCHEMAS)[K]> }[keyof typeof COORDINATOR_SCHEMAS];
export type AgentMessage = { [K in keyof typeof AGENT_SCHEMAS]: z.infer<(typeof AGENT_SCHEMAS)[K]> }[keyof typeof AGENT_SCHEMAS];
export type CoordinatorMessageType = CoordinatorMessage['t'];
export type AgentMessageType = AgentMessage['t'];
export const COORDINATOR_MESSAGE_TYPES = Object.keys(COORDINATOR_SCHEMAS) as CoordinatorMessageType[];
export const AGENT_MESSAGE_TYPES = Object.keys(AGENT_SCHEMAS) as AgentMessageType[];

/** The messages the coordinator signs; the agent drops the link when one is not signed by the pinned key. */
export type SignedCoordinatorMessage = Hello | Beacon | Challenge | Verdict | Assign | Cancel | Receipt | Account | ClaimRefused;
export const SIGNED_TYPES = ['hello', 'beacon', 'challenge', 'verdict', 'assign', 'cancel', 'receipt', 'account', 'claim-refused'] as const satisfies readonly SignedCoordinatorMessage['t'][];

// ---------------------------------------------------------------------------
// Parsing

export interface MessageProblem {
  code: 'bad-message';
  /** The frame's `t` when it had a known one. */
  type: string | null;
  message: string;
}
export type MessageResult<M> = { ok: true; value: M } | { ok: false; problem: MessageProblem };

function problem(type: string | null, message: string): { ok: false; problem: MessageProblem } {
  return { ok: false, problem: { code: 'bad-message', type, message } };
}

function parseWith<S extends Record<string, z.ZodType>>(schemas: S, raw: unknown, side: string): MessageResult<z.infer<S[keyof S]>> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return problem(null, 'a message must be a JSON object with a "t" field');
  const t = (raw as { t?: unknown }).t;
  if (typeof t !== 'string' || !Object.hasOwn(schemas, t)) {
    const shown = typeof t === 'string' ? JSON.stringify(t.slice(0, 32)) : typeof t;
    return problem(null, `t: ${shown} is not one of the ${side} message types (${Object.keys(schemas).join(', ')})`);
  }
  const parsed = (schemas[t] as z.ZodType).safeParse(raw);
  if (!parsed.success) {
    const issues = describeZodIssues(parsed.error).slice(0, 3);
    return problem(t, `${t}: ${issues.map((i) => `${i.path === '' ? '(root)' : i.path}: ${i.message}`).join('; ')}`);
  }
  return { ok: true, value: parsed.data as z.infer<S[keyof S]> };
}

/** Parses a frame's text as JSON; never throws. */
export function decodeFrame(frame: string): { ok: true; value: unknown } | { ok: false; problem: MessageProblem } {
  try {
    return { ok: true, value: JSON.parse(frame) as unknown };
  } catch (e) {
    return problem(null, `not JSON: ${e instanceof Error ? e.message.slice(0, 120) : 'parse error'}`);
  }
}

/** Validates an untrusted, JSON-parsed message from an agent (what the coordinator receives). */
export function parseAgentMessage(raw: unknown): MessageResult<AgentMessage> {
  return parseWith(AGENT_SCHEMAS, raw, 'agent');
}

/** Validates an untrusted, JSON-parsed message from a coordinator (what the agent receives). Signatures are checked separately. */
export function parseCoordinatorMessage(raw: unknown): MessageResult<CoordinatorMessage> {
  return parseWith(COORDINATOR_SCHEMAS, raw, 'coordinator');
}

// ---------------------------------------------------------------------------
// Signatures

/** The bytes a coordinator signs: "capanode:coordinator:v1\n" ‖ canonical(message without sig). */
export function coordinatorSigningBytes(unsigned: object): Buffer {
  return Buffer.from(COORDINATOR_DOMAIN + canonicalize(unsigned), 'utf8');
}

/** Adds the coordinator's signature to a message (its `t` included in what is signed). */
export function signCoordinatorMessage<U extends { t: SignedCoordinatorMessage['t'] }>(unsigned: U, key: KeyPair): U & { sig: string } {
  if ('sig' in unsigned) throw new CapanodeError('bad-input', 'the message to sign already has a sig', { hint: 'sign the message without its sig field' });
  return { ...unsigned, sig: toHex(sign(coordinatorSigningBytes(unsigned), key)) };
}

/**
 * True when `message.sig` is the coordinator's signature over the rest of the
 * message. Never throws: a missing or malformed sig, a value that cannot be
 * encoded canonically or a non-canonical signature (S >= L) is false.
 */
export function verifyCoordinatorMessage(message: object, coordinatorId: string): boolean {
  const { sig, ...rest } = message as { sig?: unknown };
  if (typeof sig !== 'string' || !HEX128.test(sig)) return false;
  let bytes: Buffer;
  try {
    bytes = coordinatorSigningBytes(rest);
  } catch {
    return false;
  }
  return verify(bytes, Buffer.from(sig, 'hex'), coordinatorId);
}

/** What the agent signs to answer hello: UTF-8 "capanode:auth:v1\n" ‖ nonce ‖ coordinator, both as hex text. */
export function authMessage(nonce: string, coordinatorId: string): Buffer {
  return Buffer.from(`${AUTH_DOMAIN}${nonce}${coordinatorId}`, 'utf8');
}

/** The agent's auth signature (HEX128) for a hello's nonce and coordinator id. */
export function signAuth(nonce: string, coordinatorId: string, key: KeyPair): string {
  return toHex(sign(authMessage(nonce, coordinatorId), key));
}

/** True when sig is node's signature over authMessage(nonce, coordinatorId). Never throws. */
export function verifyAuth(nonce: string, coordinatorId: string, node: string, sig: string): boolean {
  if (!HEX128.test(sig)) return false;
  return verify(authMessage(nonce, coordinatorId), Buffer.from(sig, 'hex'), node);
}

// ---------------------------------------------------------------------------
// Frames

const ATT_OPEN = '{"items":[';
const ATT_CLOSE = '],"t":"att"}';

/** One `att` frame from record lines (recordLine of each): canonical, so byte-stable. */
export function attFrame(lines: readonly string[]): string {
  return `${ATT_OPEN}${lines.join(',')}${ATT_CLOSE}`;
}

/**
 * Packs record lines, in order, into as few `att` frames as the limits allow
 * (MAX_ATT_RECORDS records and MAX_FRAME_BYTES bytes a frame).
 */
export function packAttFrames(lines: readonly string[], limits: { records?: number; bytes?: number } = {}): string[] {
  const maxRecords = Math.min(limits.records ?? MAX_ATT_RECORDS, MAX_ATT_RECORDS);
  const maxBytes = Math.min(limits.bytes ?? MAX_FRAME_BYTES, MAX_FRAME_BYTES);
  const overhead = Buffer.byteLength(ATT_OPEN) + Buffer.byteLength(ATT_CLOSE);
  const frames: string[] = [];
  let current: string[] = [];
  let bytes = overhead;
  for (const line of lines) {
    const size = Buffer.byteLength(line, 'utf8') + (current.length > 0 ? 1 : 0);
    if (overhead + Buffer.byteLength(line, 'utf8') > maxBytes) {
      throw new CapanodeError('bad-input', `a record of ${Buffer.byteLength(line, 'utf8')} bytes does not fit in one ${maxBytes}-byte frame`, {
        hint: 'records are bounded by their schema; this one was not built by buildEnvelope',
      });
    }
    if (current.length >= maxRecords || bytes + size > maxBytes) {
      frames.push(attFrame(current));
      current = [];
      bytes = overhead;
    }
    bytes += Buffer.byteLength(line, 'utf8') + (current.length > 0 ? 1 : 0);
    current.push(line);
  }
  if (current.length > 0) frames.push(attFrame(current));
  return frames;
}
