/**
 * Host facts through systeminformation. Best effort: a fact the host does not
 * give (a container hiding DMI, a BSD without some file) is null; probeHost
 * itself does not fail.
 */
import { statfs } from 'node:fs/promises';
import { arch, hostname, loadavg, platform, uptime } from 'node:os';
import { dirname, resolve } from 'node:path';
import si from 'systeminformation';
import type { HostFacts } from './types.js';

const MIB = 1024 * 1024;

async function settled<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch {
    return null;
  }
}

const nonEmpty = (s: string | undefined | null): string | null => (s === undefined || s === null || s.trim() === '' ? null : s.trim());
const count = (n: number | undefined | null): number | null => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.round(n) : null);

/**
 * Free space of the filesystem holding `path` (or its nearest existing
 * parent, for a data dir not created yet). statfs asks about exactly that
 * filesystem; systeminformation's fsSize lists `df -l` mounts, which leaves
 * out network and tmpfs data dirs and would need the mount matched by prefix.
 */
async function diskFor(path: string): Promise<HostFacts['disk']> {
  let p = resolve(path);
  for (;;) {
    try {
      const s = await statfs(p);
      return { path: resolve(path), freeMiB: Math.floor((s.bavail * s.bsize) / MIB), totalMiB: Math.floor((s.blocks * s.bsize) / MIB) };
    } catch {
      const up = dirname(p);
      if (up === p) return { path: resolve(path), freeMiB: null, totalMiB: null };
      p = up;
    }
  }
}

export async function probeHost(dataDir: string): Promise<HostFacts> {
  const [cpu, mem, os, system, disk] = await Promise.all([settled(si.cpu()), settled(si.mem()), settled(si.osInfo()), settled(si.system()), diskFor(dataDir)]);
  const [l1, l5, l15] = loadavg();
  const model = cpu === null ? null : nonEmpty(`${cpu.manufacturer} ${cpu.brand}`.replace(/\s+/g, ' '));
  return {
    hostname: nonEmpty(os?.hostname) ?? hostname(),
    cpu: { model, cores: count(cpu?.cores), physicalCores: count(cpu?.physicalCores) },
    memory: { totalMiB: mem === null ? null : Math.floor(mem.total / MIB), availableMiB: mem === null ? null : Math.floor(mem.available / MIB) },
    disk,
    os: { platform: platform(), distro: nonEmpty(os?.distro), release: nonEmpty(os?.release), kernel: nonEmpty(os?.kernel), arch: arch() },
    virtualization: { virtual: system === null ? null : system.virtual, host: nonEmpty(system?.virtualHost) },
    uptimeS: Math.floor(uptime()),
    load: { load1Milli: Math.round((l1 ?? 0) * 1000), load5Milli: Math.round((l5 ?? 0) * 1000), load15Milli: Math.round((l15 ?? 0) * 1000) },
  };
}
