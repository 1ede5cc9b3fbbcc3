/**
 * The operating system limits a load test runs into before the coordinator
 * does: open files (one per connection on each side) and loopback ephemeral
 * ports (one per connection to one coordinator port). Node has no getrlimit,
 * so they are read from /proc on Linux; elsewhere nothing is checked.
 */
import { readFileSync } from 'node:fs';
import { CapanodeError } from '../../common/errors.js';

/** Files a process needs beyond its connections: the store, logs, pipes, node itself. */
const FILE_HEADROOM = 256;

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The soft limit on open files of this process (children inherit it); null when unknown. */
export function openFilesLimit(): number | null {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(readText('/proc/self/limits') ?? '');
  if (m === null) return null;
  return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
}

/** How many local ports loopback connections to one address and port can use; null when unknown. */
export function ephemeralPorts(): number | null {
  const m = /^(\d+)\s+(\d+)/.exec(readText('/proc/sys/net/ipv4/ip_local_port_range') ?? '');
  return m === null ? null : Number(m[2]) - Number(m[1]) + 1;
}

/** Refuses a run the limits cannot hold, saying which limit and how to raise it. */
export function checkLimits(agents: number, coordinators: number, workers: number): void {
  const perCoordinator = Math.ceil(agents / coordinators);
  const perWorker = Math.ceil(agents / workers);
  const files = openFilesLimit();
  const needed = Math.max(perCoordinator, perWorker) + FILE_HEADROOM;
  if (files !== null && files < needed) {
    throw new CapanodeError('bad-input', `--agents ${agents} needs about ${needed} open files in each coordinator and worker process, but the limit is ${files}`, {
      hint: 'Raise it in the shell that runs the generator (`ulimit -n 65536`; the hard limit may need /etc/security/limits.conf or LimitNOFILE=), or run fewer agents or more --coordinators / --workers.',
    });
  }
  const ports = ephemeralPorts();
  if (ports !== null && perCoordinator > ports) {
    throw new CapanodeError('bad-input', `${perCoordinator} connections to one coordinator need more local ports than the ${ports} in net.ipv4.ip_local_port_range`, {
      hint: 'Widen the range (`sysctl -w net.ipv4.ip_local_port_range="1024 65535"`) or spread the agents over more --coordinators.',
    });
  }
}
