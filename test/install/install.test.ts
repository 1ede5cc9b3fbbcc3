import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

const SCRIPT = fileURLToPath(new URL('../../install.sh', import.meta.url));

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function install(args: string[]): { code: number | null; out: string } {
  const r = spawnSync('sh', [SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, CAPANODE_INSTALL_NODE: process.execPath } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The unit file as --dry-run prints it. */
function unitFrom(out: string): string {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l.includes('capanode.service (mode 0644)'));
  const body: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (!l.startsWith('    | ')) break;
    body.push(l.slice(6));
  }
  return `${body.join('\n')}\n`;
}

describe('install.sh', () => {
  it('is shellcheck clean (POSIX sh)', (ctx) => {
    if (!has('shellcheck')) {
      if (process.env['CI'] === 'true') throw new Error('shellcheck is missing in CI: .ci/run installs it');
      ctx.skip('shellcheck is not installed here (.ci/run installs it)');
    }
    const r = spawnSync('shellcheck', ['-s', 'sh', SCRIPT], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('--dry-run --root prints every step and the unit, and changes nothing', () => {
    const root = tempDir('capanode-stage-');
    const r = install(['--dry-run', '--root', root, '--coordinator', 'ws://127.0.0.1:7400']);
    expect(r.code).toBe(0);
    expect(readdirSync(root)).toEqual([]);
    for (const s of ['step 1: checking the system', 'step 3: installing the program', 'step 5: creating the node key', 'step 6: writing the systemd unit', 'would run:', 'done']) expect(r.out).toContain(s);
    const unit = unitFrom(r.out);
    for (const line of ['Type=notify', 'Restart=always', 'RestartSec=5', 'WatchdogSec=60', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'ReadWritePaths=/var/lib/capanode', 'DeviceAllow=/dev/nvidiactl rw', 'StateDirectory=capanode', 'RuntimeDirectory=capanode']) {
      expect(unit).toContain(`${line}\n`);
    }
    expect(unit).toContain(`ExecStart=${process.execPath} /opt/capanode/app/dist/agent/cli.js start\n`);
  });

  it('writes a unit that systemd-analyze verify accepts', (ctx) => {
    if (!has('systemd-analyze')) ctx.skip('systemd-analyze is not installed here');
    const dir = tempDir('capanode-unit-');
    const unitPath = join(dir, 'capanode.service');
    writeFileSync(unitPath, unitFrom(install(['--dry-run', '--root', dir]).out));
    const r = spawnSync('systemd-analyze', ['verify', unitPath], { encoding: 'utf8' });
    // Warnings about the staging machine (no capanode user, no NVIDIA devices) are not errors.
    expect(r.stderr.split('\n').filter((l) => /error|invalid|unknown/i.test(l) && !/nvidia|user|group/i.test(l))).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('--uninstall keeps the key and journal; --purge removes them', () => {
    const root = tempDir('capanode-stage-');
    const stage = (p: string) => join(root, p);
    mkdirSync(stage('var/lib/capanode'), { recursive: true });
    mkdirSync(stage('opt/capanode/app'), { recursive: true });
    mkdirSync(stage('etc/systemd/system'), { recursive: true });
    mkdirSync(stage('etc/capanode'), { recursive: true });
    writeFileSync(stage('var/lib/capanode/node.key'), 'key', { mode: 0o600 });
    writeFileSync(stage('var/lib/capanode/journal.db'), 'journal');
    writeFileSync(stage('etc/capanode/config.json'), '{}');
    writeFileSync(stage('etc/systemd/system/capanode.service'), '[Unit]\n');
    const dry = install(['--uninstall', '--dry-run', '--root', root]);
    expect(dry.code).toBe(0);
    expect(existsSync(stage('opt/capanode/app'))).toBe(true);
    const r = install(['--uninstall', '--root', root]);
    expect(r.code).toBe(0);
    expect(existsSync(stage('opt/capanode'))).toBe(false);
    expect(existsSync(stage('etc/systemd/system/capanode.service'))).toBe(false);
    expect(existsSync(stage('var/lib/capanode/node.key'))).toBe(true);
    expect(existsSync(stage('var/lib/capanode/journal.db'))).toBe(true);
    expect(existsSync(stage('etc/capanode/config.json'))).toBe(true);
    expect(r.out).toContain('kept the key and journal');
    const purge = install(['--uninstall', '--purge', '--root', root]);
    expect(purge.code).toBe(0);
    expect(existsSync(stage('var/lib/capanode'))).toBe(false);
  });

  it('refuses unknown options and --purge without --uninstall', () => {
    expect(install(['--frobnicate'])).toMatchObject({ code: 1, out: expect.stringContaining('unknown option: --frobnicate') as unknown });
    expect(install(['--purge', '--dry-run'])).toMatchObject({ code: 1, out: expect.stringContaining('--purge only goes with --uninstall') as unknown });
  });
});
