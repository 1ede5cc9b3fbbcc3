/**
 * An operator's job request, checked and turned into the rows the
 * dispatcher sends: one per replica (`ID.r1`, `ID.r2`, ... when redundant),
 * with the params as the canonical JSON the signed `assign` will carry.
 */
import { z } from 'zod';
import { CapanodeError } from '../../common/errors.js';
import { canonicalize } from '../../proofs/canonical.js';
import { describeZodIssues, IdSchema, WORKLOAD_KINDS } from '../../proofs/envelope.js';
import { JobParamsSchema, MAX_DEADLINE_MS, PotJobParamsSchema } from '../../proofs/messages.js';
import type { NewJob } from '../store/job-types.js';

/** Replicas of one job, at most; a tiebreak may add one more. */
export const MAX_REDUNDANCY = 5;

export const SubmitSchema = z.strictObject({
  id: IdSchema.refine((id) => id.length <= 60, 'must be at most 60 characters (replicas add .rN)'),
  workload: z.enum(WORKLOAD_KINDS),
  params: JobParamsSchema,
  deadlineMs: z.number().int().min(1).max(MAX_DEADLINE_MS),
  /** Micro-credits per replica. */
  fee: z.number().int().min(0).max(1e15),
  redundancy: z.number().int().min(1).max(MAX_REDUNDANCY),
  node: z.string().regex(/^[0-9a-f]{64}$/, 'must be a node id, 64 lowercase hex characters').nullable(),
});
export type SubmitInput = z.input<typeof SubmitSchema>;

export function buildJobs(input: SubmitInput, now: number): NewJob[] {
  const parsed = SubmitSchema.safeParse(input);
  if (!parsed.success) {
    const problems = describeZodIssues(parsed.error).map((p) => `${p.path}: ${p.message}`);
    throw new CapanodeError('bad-input', `the job is not valid: ${problems.join('; ')}`, { hint: 'See `capanode-coordinator jobs submit --help` and docs/OPERATIONS.md (Jobs).' });
  }
  const j = parsed.data;
  if (j.workload === 'pot') {
    // Checked here too, so an operator hears of a bad seed now rather than from every node's rejection.
    const pot = PotJobParamsSchema.safeParse(j.params);
    if (!pot.success) throw new CapanodeError('bad-input', `the pot job's params are not valid: ${describeZodIssues(pot.error, 'params').map((p) => `${p.path}: ${p.message}`).join('; ')}`, { hint: 'A pot job needs seed (64 hex characters), n (a multiple of 64, 64-4096) and reps.' });
  }
  if (j.redundancy > 1 && j.node !== null) throw new CapanodeError('bad-input', 'a redundant job runs on several nodes: --node and --redundancy > 1 do not go together', { hint: 'Drop one of them.' });
  const params = canonicalize(j.params);
  const ids = j.redundancy === 1 ? [j.id] : Array.from({ length: j.redundancy }, (_, i) => `${j.id}.r${i + 1}`);
  return ids.map((id) => ({ id, group: j.id, workload: j.workload, params, deadlineMs: j.deadlineMs, fee: j.fee, redundancy: j.redundancy, pinned: j.node, submittedAt: now }));
}
