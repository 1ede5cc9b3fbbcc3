import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UsageBody } from '../../proofs/envelope.js';
import type { Assign, JobUpdate } from '../../proofs/messages.js';
import type { WorkloadPorts } from '../../agent/workloads/index.js';
import { tempDir } from './tmp.js';

/** A constant draw for the fake telemetry: energy over [from, to] is exactly POWER_W x (to - from) mJ. */
export const POWER_W = 300;

/** Ports that record what the runner reports; appendUsage can be made to fail (a full journal). */
export function recordingPorts(devices: { uuid: string; index: number }[] = []): WorkloadPorts & {
  updates: Omit<JobUpdate, 't'>[];
  usages: UsageBody[];
  energyCalls: [string, number, number][];
  failAppends: number;
  final(job: string): Omit<JobUpdate, 't'> | undefined;
} {
  const ports = {
    updates: [] as Omit<JobUpdate, 't'>[],
    usages: [] as UsageBody[],
    energyCalls: [] as [string, number, number][],
    failAppends: 0,
    devices: () => devices,
    energyMj(uuid: string, from: number, to: number) {
      ports.energyCalls.push([uuid, from, to]);
      return POWER_W * (to - from);
    },
    appendUsage(body: UsageBody) {
      if (ports.failAppends > 0) {
        ports.failAppends--;
        return Promise.reject(new Error('journal full (test)'));
      }
      ports.usages.push(body);
      return Promise.resolve(ports.usages.length);
    },
    sendUpdate(u: Omit<JobUpdate, 't'>) {
      ports.updates.push(u);
    },
    final(job: string) {
      return ports.updates.filter((u) => u.job === job && !['accepted', 'running'].includes(u.state)).at(-1);
    },
  };
  return ports;
}

let counter = 0;
export function assignment(workload: Assign['workload'], params: Assign['params'], deadlineMs = 30_000): Assign {
  counter += 1;
  return { t: 'assign', job: `job-${process.pid}-${counter}`, workload, params, deadlineMs, sig: '0'.repeat(128) };
}

/** An executable shell script in a directory the workload user can reach. */
export function script(body: string, name = 'job.sh'): string {
  const dir = tempDir('capanode-workload-');
  chmodSync(dir, 0o755);
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return path;
}
