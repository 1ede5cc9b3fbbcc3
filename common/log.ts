import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/**
 * Logging policy: JSON lines on stdout (journald keeps them). `error` is for
 * conditions an operator must act on, `warn` for degraded but self-healing
 * states, `info` for lifecycle events, `debug` for per-message detail.
 * Data that came from the network is nested under `remote` so it can never
 * overwrite our own fields; secret keys are redacted wherever they appear.
 */
export const REDACT_PATHS = ['secretKey', '*.secretKey', '*.*.secretKey', 'privateKey', '*.privateKey'];

export function createLogger(options: { level?: string; name?: string } = {}, destination?: DestinationStream): Logger {
  const opts = {
    level: options.level ?? process.env['CAPANODE_LOG_LEVEL'] ?? 'info',
    name: options.name ?? 'capanode',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination === undefined ? pino(opts) : pino(opts, destination);
}
