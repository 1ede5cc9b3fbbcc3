import { z } from 'zod';

/**
 * Every agent setting, with its default. Keys are flat so each has one
 * obvious environment override: CAPANODE_ + the key in SCREAMING_SNAKE_CASE
 * (heartbeatIntervalMs -> CAPANODE_HEARTBEAT_INTERVAL_MS). docs/OPERATIONS.md
 * documents them.
 */
export const WORKLOAD_KIND_VALUES = ['pot', 'bench', 'container', 'exec'] as const;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (the coordinator\'s public key)');
const wsUrl = z.string().regex(/^wss?:\/\/[^\s]+$/, 'must be a ws:// or wss:// URL');
const listen = z.union([z.literal('off'), z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be HOST:PORT or "off"')]);
const duration = (min: number, max: number) => z.number().int('must be an integer number of milliseconds').min(min).max(max);

export const ConfigSchema = z.strictObject({
  coordinatorUrl: wsUrl.nullable().default(null),
  coordinatorKey: hex64.nullable().default(null),
  // Below a second only makes sense in tests that need many records quickly.
  heartbeatIntervalMs: duration(100, 3_600_000).default(30_000),
  telemetryIntervalMs: duration(100, 60_000).default(1_000),
  benchIntervalMs: duration(60_000, 7 * 86_400_000).default(6 * 3_600_000),
  benchOnStart: z.boolean().default(true),
  metricsListen: listen.default('127.0.0.1:9750'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  retentionDays: z.number().int().min(1).max(3650).default(90),
  workloads: z.array(z.enum(WORKLOAD_KIND_VALUES)).max(4).default(['pot', 'bench']),
  execAllowlist: z.array(z.string().min(1).max(4096)).max(256).default([]),
  workloadUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a Unix user name').default('nobody'),
  containerNetwork: z.boolean().default(false),
  jobGraceMs: duration(0, 600_000).default(30_000),
  claimTo: z.string().min(1).max(128).nullable().default(null),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigKey = keyof Config;
export const CONFIG_KEYS = Object.keys(ConfigSchema.shape) as ConfigKey[];

export function envName(key: string): string {
  return `CAPANODE_${key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}
