import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envName, loadConfig, resolvePaths } from '../../../agent/config/index.js';
import { thrown } from '../../helpers/errors.js';

function file(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'capanode-config-')), 'config.json');
  writeFileSync(path, content);
  return path;
}

describe('loadConfig', () => {
  it('fills defaults for an empty object', () => {
    const c = loadConfig({ file: file('{}'), env: {} });
    expect(c).toMatchObject({ heartbeatIntervalMs: 30_000, metricsListen: '127.0.0.1:9750', workloads: ['pot', 'bench'], coordinatorUrl: null });
  });

  it('applies file, then environment, then flags', () => {
    const path = file(JSON.stringify({ heartbeatIntervalMs: 10_000, logLevel: 'debug', workloads: ['pot'] }));
    const c = loadConfig({ file: path, env: { CAPANODE_HEARTBEAT_INTERVAL_MS: '5000', CAPANODE_WORKLOADS: 'pot,bench,exec', CAPANODE_CONTAINER_NETWORK: 'true' }, overrides: { logLevel: 'warn' } });
    expect(c.heartbeatIntervalMs).toBe(5000);
    expect(c.workloads).toEqual(['pot', 'bench', 'exec']);
    expect(c.containerNetwork).toBe(true);
    expect(c.logLevel).toBe('warn');
  });

  it('names a typo\'d key, the file, and the likely intended key', () => {
    const path = file(JSON.stringify({ heartbeatIntervalMS: 1000 }));
    const e = thrown(() => loadConfig({ file: path, env: {} }));
    expect(e.code).toBe('config-invalid');
    expect(e.message).toContain(`${path}: unknown key "heartbeatIntervalMS" (did you mean "heartbeatIntervalMs"?)`);
  });

  it('names every bad value with its source at once', () => {
    const path = file(JSON.stringify({ coordinatorKey: 'ABC', heartbeatIntervalMs: 1.5, workloads: ['pot', 'gpu-miner'] }));
    const e = thrown(() => loadConfig({ file: path, env: { CAPANODE_TELEMETRY_INTERVAL_MS: 'fast', CAPANODE_NOT_A_KEY: '1' } }));
    expect(e.message).toContain(`${path}: key "coordinatorKey": must be 64 lowercase hex`);
    expect(e.message).toContain(`${path}: key "heartbeatIntervalMs"`);
    expect(e.message).toContain(`${path}: key "workloads"[1]`);
    expect(e.message).toContain('environment CAPANODE_TELEMETRY_INTERVAL_MS');
    expect(e.message).toContain('environment CAPANODE_NOT_A_KEY: not a capanode setting');
  });

  it('explains invalid JSON and a missing file', () => {
    expect(thrown(() => loadConfig({ file: file('{"a":1,}'), env: {} })).message).toMatch(/is not valid JSON/);
    const missing = thrown(() => loadConfig({ file: '/nonexistent/capanode.json', env: {} }));
    expect(missing.hint).toContain('capanode init');
    expect(loadConfig({ file: '/nonexistent/capanode.json', env: {}, allowMissing: true }).retentionDays).toBe(90);
  });

  it('maps keys to environment names', () => {
    expect(envName('heartbeatIntervalMs')).toBe('CAPANODE_HEARTBEAT_INTERVAL_MS');
    expect(envName('coordinatorUrl')).toBe('CAPANODE_COORDINATOR_URL');
  });
});

describe('resolvePaths', () => {
  it('uses the systemd paths for root and the capanode user', () => {
    for (const p of [resolvePaths({ uid: 0, env: {} }), resolvePaths({ uid: 999, userName: 'capanode', env: {} })]) {
      expect(p).toMatchObject({ mode: 'system', configFile: '/etc/capanode/config.json', keyFile: '/var/lib/capanode/node.key', journalFile: '/var/lib/capanode/journal.db', controlSocket: '/run/capanode/control.sock' });
    }
  });

  it('uses XDG paths for a user', () => {
    const p = resolvePaths({ uid: 1000, userName: 'alice', env: { HOME: '/home/alice', XDG_RUNTIME_DIR: '/run/user/1000' }, exists: () => false });
    expect(p).toMatchObject({ mode: 'user', configFile: '/home/alice/.config/capanode/config.json', keyFile: '/home/alice/.local/share/capanode/node.key', controlSocket: '/run/user/1000/capanode.sock' });
    expect(resolvePaths({ uid: 1000, env: { HOME: '/h', XDG_CONFIG_HOME: '/c', XDG_DATA_HOME: '/d' }, exists: () => false })).toMatchObject({ configFile: '/c/capanode/config.json', journalFile: '/d/capanode/journal.db', controlSocket: '/d/capanode/control.sock' });
  });

  it('lets an operator reach the system service when only the system config exists', () => {
    const only = (paths: string[]) => (p: string) => paths.includes(p);
    expect(resolvePaths({ uid: 1000, userName: 'alice', env: { HOME: '/home/alice' }, exists: only(['/etc/capanode/config.json']) }).mode).toBe('system');
    expect(resolvePaths({ uid: 1000, userName: 'alice', env: { HOME: '/home/alice' }, exists: only(['/etc/capanode/config.json', '/home/alice/.config/capanode/config.json']) }).mode).toBe('user');
  });

  it('puts everything under an explicit data dir, flag before environment', () => {
    expect(resolvePaths({ uid: 0, dataDir: '/srv/a', env: { CAPANODE_DATA_DIR: '/srv/b' } })).toMatchObject({ mode: 'data-dir', keyFile: '/srv/a/node.key', configFile: '/srv/a/config.json', controlSocket: '/srv/a/control.sock' });
    expect(resolvePaths({ uid: 0, env: { CAPANODE_DATA_DIR: '/srv/b', CAPANODE_CONFIG: '/etc/x.json' } })).toMatchObject({ journalFile: '/srv/b/journal.db', configFile: '/etc/x.json' });
  });
});
