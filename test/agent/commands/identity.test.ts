import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

const COORD_KEY = 'c0'.repeat(32);

describe('capanode init / keys show', () => {
  it('creates a 0600 key and a config holding only what was given, and prints the node id', async () => {
    const dir = tempDir();
    const r = await runCli(['init', '--data-dir', dir, '--coordinator', 'ws://127.0.0.1:7400', '--coordinator-key', COORD_KEY, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { node: string; keyFile: string };
    expect(out.node).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(dir, 'node.key')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual({ coordinatorUrl: 'ws://127.0.0.1:7400', coordinatorKey: COORD_KEY });
    const shown = await runCli(['keys', 'show', '--data-dir', dir, '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ node: out.node });
  });

  it('refuses to overwrite an existing identity without --force, and replaces it with --force', async () => {
    const dir = tempDir();
    const first = JSON.parse((await runCli(['init', '--data-dir', dir, '--json'])).stdout) as { node: string };
    const again = await runCli(['init', '--data-dir', dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`node ${first.node}`);
    expect(again.stderr).toContain('--force');
    const forced = JSON.parse((await runCli(['init', '--data-dir', dir, '--force', '--json'])).stdout) as { node: string };
    expect(forced.node).not.toBe(first.node);
  });

  it('refuses a group-readable key with a chmod hint', async () => {
    const dir = tempDir();
    await runCli(['init', '--data-dir', dir]);
    chmodSync(join(dir, 'node.key'), 0o640);
    const r = await runCli(['keys', 'show', '--data-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('key-permissions');
    expect(r.stderr).toContain('chmod 600');
  });

  it('rejects a bad coordinator URL or key naming the flag, and writes nothing', async () => {
    const dir = tempDir();
    const r = await runCli(['init', '--data-dir', dir, '--coordinator', 'http://x', '--coordinator-key', 'XYZ']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--coordinator: must be a ws:// or wss:// URL');
    expect(r.stderr).toContain('--coordinator-key: must be 64 lowercase hex');
    expect(() => statSync(join(dir, 'node.key'))).toThrow();
  });

  it('exits 2 on a usage error', async () => {
    expect((await runCli(['no-such-command'])).code).toBe(2);
    expect((await runCli(['init', '--no-such-flag'])).code).toBe(2);
  });
});
