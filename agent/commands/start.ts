/** `capanode start [--devnet]`: the daemon in the foreground (systemd's ExecStart). */
import type { Command } from 'commander';
import { action } from '../../common/cli.js';
import { createLogger } from '../../common/log.js';
import { loadConfig, resolvePaths } from '../config/index.js';
import { startDaemon } from '../daemon.js';
import { startDevnet } from '../devnet.js';
import { withCommonOptions, type CommonOptions } from './options.js';

interface StartOptions extends CommonOptions {
  devnet?: boolean;
  adoptRemoteHead?: boolean;
}

export function registerStartCommand(program: Command): void {
  withCommonOptions(
    program
      .command('start')
      .description('run the agent in the foreground (SIGTERM drains and exits 0)')
      .option('--devnet', 'embed a local coordinator on 127.0.0.1 and keep data under ./.devnet (try-out mode)')
      .option('--adopt-remote-head', 'with an empty journal, continue the chain the coordinator holds instead of refusing'),
  ).action(
    action(async (opts: StartOptions) => {
      // Signals from the first instant: a stop asked for during startup runs once the daemon is up,
      // so even then it drains and exits 0 instead of dying mid-open.
      const stop: { requested: NodeJS.Signals | null; daemon: ((signal: NodeJS.Signals) => void) | null } = { requested: null, daemon: null };
      const onSignal = (signal: NodeJS.Signals) => {
        stop.requested ??= signal;
        stop.daemon?.(signal);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      const bootLog = createLogger({ level: process.env['CAPANODE_LOG_LEVEL'] ?? 'info' });
      const devnet = opts.devnet === true ? await startDevnet({ logger: bootLog }) : null;
      try {
        const paths = resolvePaths({ dataDir: devnet?.agentDir ?? opts.dataDir, config: opts.config });
        const config = loadConfig({
          file: paths.configFile,
          allowMissing: devnet !== null,
          ...(devnet === null ? {} : { overrides: { heartbeatIntervalMs: 10_000, metricsListen: 'off' as const } }),
        });
        const logger = createLogger({ level: process.env['CAPANODE_LOG_LEVEL'] ?? config.logLevel });
        const daemon = await startDaemon({
          paths,
          config,
          logger,
          ...(devnet === null ? {} : { coordinator: { url: devnet.coordinator.url, key: devnet.coordinator.id } }),
          adoptRemoteHead: opts.adoptRemoteHead === true,
        });
        stop.daemon = (signal) => void daemon.stop(signal);
        if (stop.requested !== null) stop.daemon(stop.requested);
        await daemon.done;
      } finally {
        await devnet?.coordinator.close();
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    }),
  );
}
