/** `capanode-coordinator serve`: runs the WebSocket endpoint until SIGTERM or SIGINT. */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { action } from '../../common/cli.js';
import { readKeyFile } from '../../common/keyfile.js';
import { createLogger } from '../../common/log.js';
import { CONFIG_KEYS, CoordinatorConfigSchema, flagName, loadCoordinatorConfig, parseFlagValue } from '../config.js';
import { startCoordinator } from '../coordinator.js';
import { defaultKeyFile, defaultStoreUrl } from '../paths.js';

interface ServeOptions {
  store?: string;
  key?: string;
  config?: string;
  [setting: string]: unknown;
}

function defaultText(key: (typeof CONFIG_KEYS)[number]): string {
  const probe = CoordinatorConfigSchema.shape[key].safeParse(undefined);
  return probe.success ? JSON.stringify(probe.data) : '';
}

export function registerServeCommand(program: Command): void {
  const cmd = program
    .command('serve')
    .description('run the coordinator: agents connect over WebSocket, records are verified and stored, PoT challenges sent')
    .option('--store <url>', `ledger store, sqlite:FILE or postgres://USER@HOST/DB (default ${defaultStoreUrl()})`)
    .option('--key <file>', `coordinator key, made by \`capanode-coordinator init\` (default ${defaultKeyFile()})`)
    .option('--config <file>', 'JSON file of settings (any of the options below, camelCase); flags override it');
  for (const key of CONFIG_KEYS) {
    const schema = CoordinatorConfigSchema.shape[key];
    cmd.addOption(new Option(`${flagName(key)} <value>`, `${schema.description ?? key} (default ${defaultText(key)})`).argParser(parseFlagValue));
  }
  cmd.action(
    action(async (opts: ServeOptions) => {
      const overrides: Record<string, unknown> = {};
      for (const key of CONFIG_KEYS) if (opts[key] !== undefined) overrides[key] = opts[key];
      const config = loadCoordinatorConfig({ file: opts.config, overrides });
      const key = readKeyFile(resolve(opts.key ?? defaultKeyFile()));
      const logger = createLogger({ level: process.env['CAPANODE_LOG_LEVEL'] ?? config.logLevel, name: 'capanode-coordinator' });
      const running = await startCoordinator({ key, store: opts.store ?? defaultStoreUrl(), config, logger });
      process.stderr.write(`capanode-coordinator ${running.id} listening on ${running.url}\n`);
      await new Promise<void>((done) => {
        let stopping = false;
        const stop = (signal: string): void => {
          if (stopping) {
            logger.warn({ signal }, 'second signal: exiting at once');
            process.exit(1);
          }
          stopping = true;
          logger.info({ signal }, 'stopping');
          running.close().then(done, (e: unknown) => {
            logger.error({ err: e }, 'error while stopping');
            process.exitCode = 1;
            done();
          });
        };
        process.on('SIGTERM', () => stop('SIGTERM'));
        process.on('SIGINT', () => stop('SIGINT'));
      });
    }),
  );
}
