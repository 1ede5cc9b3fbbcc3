import { join } from 'node:path';
import { arch, cpus, platform } from 'node:os';
import { describe, expect, it } from 'vitest';
import { probeHost } from '../../../agent/probe/index.js';
import { tempDir } from '../../helpers/tmp.js';

describe('probeHost', () => {
  it('reports this machine, with free disk for a data dir not created yet', async () => {
    const dir = join(tempDir(), 'not', 'yet');
    const h = await probeHost(dir);
    expect(h.os.platform).toBe(platform());
    expect(h.os.arch).toBe(arch());
    expect(h.cpu.cores).toBe(cpus().length);
    expect(h.memory.totalMiB).toBeGreaterThan(0);
    expect(h.memory.availableMiB).toBeLessThanOrEqual(h.memory.totalMiB!);
    expect(h.disk.path).toBe(dir);
    expect(h.disk.freeMiB).toBeGreaterThan(0);
    expect(h.disk.freeMiB).toBeLessThanOrEqual(h.disk.totalMiB!);
    expect(h.uptimeS).toBeGreaterThan(0);
    for (const v of Object.values(h.load)) expect(Number.isInteger(v)).toBe(true);
    expect(typeof h.hostname).toBe('string');
  });
});
