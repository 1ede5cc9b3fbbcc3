/**
 * Where the coordinator keeps its key and store when no flag says: a system
 * service (root) under /var/lib/capanode-coordinator, anyone else under
 * $XDG_DATA_HOME/capanode-coordinator.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, uid = typeof process.getuid === 'function' ? process.getuid() : 1000): string {
  if (uid === 0) return '/var/lib/capanode-coordinator';
  const home = env['HOME'] !== undefined && env['HOME'] !== '' ? env['HOME'] : homedir();
  const dataHome = env['XDG_DATA_HOME'] !== undefined && env['XDG_DATA_HOME'] !== '' ? env['XDG_DATA_HOME'] : join(home, '.local', 'share');
  return join(dataHome, 'capanode-coordinator');
}

export function defaultKeyFile(): string {
  return join(defaultDataDir(), 'coordinator.key');
}

export function defaultStoreUrl(): string {
  return `sqlite:${join(defaultDataDir(), 'ledger.db')}`;
}
