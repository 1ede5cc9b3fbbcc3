/**
 * The inputs hash an epoch is recorded with: SHA-256 of the canonical JSON
 * of its facts and the reward parameters in force. The facts come in one
 * order only (nodes by id, verdicts by time, fraud by evidence), so two
 * closes of the same epoch over the same store hash the same, and anyone
 * holding the stored facts can check the hash.
 */
import { createHash } from 'node:crypto';
import { canonicalize } from '../../proofs/canonical.js';
import type { EpochInput } from '../rewards/facts.js';
import type { RewardParams } from '../rewards/params.js';

export const INPUTS_HASH_VERSION = 1;

export function inputsHash(input: EpochInput, params: RewardParams): string {
  return createHash('sha256').update(canonicalize({ v: INPUTS_HASH_VERSION, input, params }), 'utf8').digest('hex');
}
