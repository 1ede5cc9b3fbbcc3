/**
 * Where the agent keeps its files (DESIGN §2). A systemd install (running as
 * root or as the `capanode` system user, or with a config under /etc) uses the
 * system paths; anyone else gets XDG user paths. `--data-dir` /
 * CAPANODE_DATA_DIR and `--config` / CAPANODE_CONFIG override.
 */
import { homedir } from 'node:os';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface AgentPaths {
  mode: 'system' | 'user' | 'data-dir';
  configFile: string;
  dataDir: string;
  keyFile: string;
  journalFile: string;
  controlSocket: string;
}

export interface PathOptions {
  dataDir?: string | undefined;
  config?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Effective uid; defaults to process.getuid(). */
  uid?: number;
  userName?: string;
  /** File existence check, injectable for tests. */
  exists?: (path: string) => boolean;
}

export const SYSTEM_PATHS = {
  configFile: '/etc/capanode/config.json',
  dataDir: '/var/lib/capanode',
  controlSocket: '/run/capanode/control.sock',
} as const;

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

export function resolvePaths(options: PathOptions = {}): AgentPaths {
  const env = options.env ?? process.env;
  const uid = options.uid ?? (typeof process.getuid === 'function' ? process.getuid() : 1000);
  const user = options.userName ?? env['USER'] ?? '';
  const exists = options.exists ?? existsSync;
  const home = nonEmpty(env['HOME']) ?? homedir();
  const configHome = nonEmpty(env['XDG_CONFIG_HOME']) ?? join(home, '.config');
  const userConfig = join(configHome, 'capanode', 'config.json');
  // On a machine with the system service installed, an operator's `capanode status`
  // must reach that service, unless they set up an agent of their own.
  const system = uid === 0 || user === 'capanode' || (exists(SYSTEM_PATHS.configFile) && !exists(userConfig));
  const explicitData = nonEmpty(options.dataDir) ?? nonEmpty(env['CAPANODE_DATA_DIR']);
  const explicitConfig = nonEmpty(options.config) ?? nonEmpty(env['CAPANODE_CONFIG']);

  if (explicitData !== undefined) {
    // A data dir given explicitly holds everything, so several agents can run side by side.
    const dataDir = resolve(explicitData);
    return {
      mode: 'data-dir',
      configFile: explicitConfig !== undefined ? resolve(explicitConfig) : join(dataDir, 'config.json'),
      dataDir,
      keyFile: join(dataDir, 'node.key'),
      journalFile: join(dataDir, 'journal.db'),
      controlSocket: join(dataDir, 'control.sock'),
    };
  }
  if (system) {
    return {
      mode: 'system',
      configFile: explicitConfig !== undefined ? resolve(explicitConfig) : SYSTEM_PATHS.configFile,
      dataDir: SYSTEM_PATHS.dataDir,
      keyFile: join(SYSTEM_PATHS.dataDir, 'node.key'),
      journalFile: join(SYSTEM_PATHS.dataDir, 'journal.db'),
      controlSocket: SYSTEM_PATHS.controlSocket,
    };
  }
  const dataHome = nonEmpty(env['XDG_DATA_HOME']) ?? join(home, '.local', 'share');
  const runtimeDir = nonEmpty(env['XDG_RUNTIME_DIR']);
  const dataDir = join(dataHome, 'capanode');
  return {
    mode: 'user',
    configFile: explicitConfig !== undefined ? resolve(explicitConfig) : userConfig,
    dataDir,
    keyFile: join(dataDir, 'node.key'),
    journalFile: join(dataDir, 'journal.db'),
    controlSocket: runtimeDir !== undefined ? join(runtimeDir, 'capanode.sock') : join(dataDir, 'control.sock'),
  };
}
