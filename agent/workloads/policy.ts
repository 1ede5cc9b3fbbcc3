/**
 * What an assignment may ask for, and whether this operator allows it. The
 * coordinator's signature says who asked, not that the request is safe: the
 * kind must be enabled in config, an exec command must be on the allowlist,
 * and every parameter is parsed into a typed, bounded job spec before any
 * process starts. A refusal names the parameter and what the operator can do.
 */
import { isAbsolute, normalize } from 'node:path';
import { z } from 'zod';
import { describeZodIssues, type WORKLOAD_KINDS } from '../../proofs/envelope.js';
import { PotJobParamsSchema, type Assign } from '../../proofs/messages.js';

export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export interface WorkloadPolicy {
  /** Kinds the operator enabled (config `workloads`); pot and bench are always allowed. */
  workloads: readonly WorkloadKind[];
  /** Absolute paths of the executables an exec job may run (config `execAllowlist`). */
  execAllowlist: readonly string[];
  /** The unprivileged user exec jobs run as when the agent runs as root (config `workloadUser`). */
  workloadUser: string;
  /** Whether a container job may have a network when it asks (config `containerNetwork`). */
  containerNetwork: boolean;
}

/** Output kept per job (bytes of stdout and stderr together); the digest covers all of stdout. */
export const DEFAULT_OUTPUT_LIMIT = 1 << 20;
const MAX_OUTPUT_LIMIT = 64 << 20;
const MAX_MEMORY_MIB = 1 << 20;

const args = z.array(z.string().max(4096)).max(256).default([]);
const memoryMiB = z.number().int().min(16).max(MAX_MEMORY_MIB).nullable().default(null);
const outputLimit = z.number().int().min(0).max(MAX_OUTPUT_LIMIT).default(DEFAULT_OUTPUT_LIMIT);
/** Names a job may not set: they would change what runs (the loader, the search path) or which GPU it gets. */
const RESERVED_ENV = /^(PATH|HOME|TMPDIR|LD_.*|CUDA_VISIBLE_DEVICES|NVIDIA_VISIBLE_DEVICES|CAPANODE_.*)=/;
const envEntries = z
  .array(
    z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]{0,63}=[^\0]{0,4096}$/, 'entries must be NAME=VALUE with NAME in [A-Z0-9_]')
      .refine((e) => !RESERVED_ENV.test(e), 'PATH, HOME, TMPDIR, LD_*, CUDA_VISIBLE_DEVICES, NVIDIA_VISIBLE_DEVICES and CAPANODE_* are set by the agent'),
  )
  .max(64)
  .default([]);

const PotParams = PotJobParamsSchema;
const BenchParams = z.strictObject({ quick: z.boolean().default(true) });
const ExecParams = z.strictObject({
  command: z.string().min(1).max(4096),
  args,
  env: envEntries,
  memoryMiB,
  outputLimit,
});
const ContainerParams = z.strictObject({
  image: z
    .string()
    .min(1)
    .max(512)
    .regex(/^[a-z0-9][a-z0-9._/:@-]*$/, 'must be an image reference such as docker.io/library/alpine:3.20 or an image@sha256:... digest'),
  args,
  env: envEntries,
  network: z.boolean().default(false),
  memoryMiB,
  outputLimit,
});

export type JobSpec =
  | ({ workload: 'pot' } & z.infer<typeof PotParams>)
  | ({ workload: 'bench' } & z.infer<typeof BenchParams>)
  | ({ workload: 'exec' } & z.infer<typeof ExecParams>)
  | ({ workload: 'container' } & z.infer<typeof ContainerParams>);

export type PolicyDecision = { ok: true; spec: JobSpec } | { ok: false; reason: string };

function parse<S extends z.ZodType>(schema: S, params: unknown, kind: string): { ok: true; value: z.infer<S> } | { ok: false; reason: string } {
  const r = schema.safeParse(params);
  return r.success
    ? { ok: true, value: r.data }
    : { ok: false, reason: `bad ${kind} params: ${describeZodIssues(r.error, 'params')
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}` };
}

/** The allowlist rule: the command is an absolute, normalised path equal to one entry, byte for byte (no search path, no shell, no globbing). */
export function allowedCommand(command: string, allowlist: readonly string[]): boolean {
  return isAbsolute(command) && normalize(command) === command && allowlist.includes(command);
}

export function decide(assign: Pick<Assign, 'workload' | 'params'>, policy: WorkloadPolicy): PolicyDecision {
  const kind = assign.workload;
  if (kind !== 'pot' && kind !== 'bench' && !policy.workloads.includes(kind)) {
    return { ok: false, reason: `${kind} jobs are disabled on this node (the operator enables them with the workloads config key)` };
  }
  switch (kind) {
    case 'pot': {
      const p = parse(PotParams, assign.params, kind);
      return p.ok ? { ok: true, spec: { workload: kind, ...p.value } } : p;
    }
    case 'bench': {
      const p = parse(BenchParams, assign.params, kind);
      return p.ok ? { ok: true, spec: { workload: kind, ...p.value } } : p;
    }
    case 'exec': {
      const p = parse(ExecParams, assign.params, kind);
      if (!p.ok) return p;
      if (!allowedCommand(p.value.command, policy.execAllowlist)) {
        return { ok: false, reason: `command ${JSON.stringify(p.value.command.slice(0, 200))} is not on this node's execAllowlist (exact absolute paths)` };
      }
      return { ok: true, spec: { workload: kind, ...p.value } };
    }
    case 'container': {
      const p = parse(ContainerParams, assign.params, kind);
      if (!p.ok) return p;
      if (p.value.network && !policy.containerNetwork) return { ok: false, reason: 'the job asks for a network and this node runs containers without one (config containerNetwork)' };
      return { ok: true, spec: { workload: kind, ...p.value } };
    }
  }
}
