import type { Command } from 'commander';
import { resolvePaths, type AgentPaths } from '../config/index.js';

export interface CommonOptions {
  dataDir?: string;
  config?: string;
  json?: boolean;
}

/** DESIGN §3: every agent command takes --data-dir and --config. */
export function withCommonOptions(cmd: Command): Command {
  return cmd.option('--data-dir <dir>', 'data directory (key, journal, socket); env CAPANODE_DATA_DIR').option('--config <file>', 'config file; env CAPANODE_CONFIG');
}

export function pathsFrom(opts: CommonOptions): AgentPaths {
  return resolvePaths({ dataDir: opts.dataDir, config: opts.config });
}
