/**
 * XID errors: what the NVIDIA driver writes to the kernel log
 * (`NVRM: Xid (PCI:0000:3b:00): 79, pid=..., GPU has fallen off the bus.`).
 * The log is read from the first source that answers: journalctl -k (this
 * boot), dmesg, /dev/kmsg. Each may be refused to an unprivileged user
 * (kernel.dmesg_restrict, no systemd-journal group); the report says which
 * were tried and why they failed, so "no XID errors" is never claimed blind.
 */
import { execFile } from 'node:child_process';
import { closeSync, openSync, readSync, constants as fsConstants } from 'node:fs';
import type { XidEvent, XidReport } from './types.js';

export interface KernelLogSource {
  name: string;
  /** The log text; rejects when it cannot be read. */
  read(): Promise<string>;
}

const XID_LINE = /NVRM: Xid \(PCI:([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}(?:\.[0-9A-Fa-f])?)\): (\d{1,4})\b,?\s*(.*)$/;
const MAX_LOG_BYTES = 32 * 1024 * 1024;

/** XID events in kernel log text, oldest first. */
export function parseXidLines(log: string): XidEvent[] {
  const out: XidEvent[] = [];
  for (const raw of log.split('\n')) {
    const m = XID_LINE.exec(raw);
    if (m === null) continue;
    out.push({ pci: (m[1] as string).toLowerCase(), xid: Number(m[2]), detail: (m[3] as string).trim().slice(0, 300), line: raw.trim().slice(0, 500) });
  }
  return out;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: MAX_LOG_BYTES, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err === null) resolve(stdout);
      else reject(new Error((stderr.trim() || err.message).split('\n')[0] ?? err.message));
    });
  });
}

/** Reads the kernel ring buffer without blocking: /dev/kmsg gives one record per read and EAGAIN at its end. */
function readKmsg(path: string): string {
  const fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  const buf = Buffer.alloc(8192);
  const lines: string[] = [];
  let total = 0;
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') break;
        // The oldest records were overwritten while reading: carry on from the next one.
        if (code === 'EPIPE') continue;
        throw e;
      }
      if (n === 0) break;
      const rec = buf.toString('utf8', 0, n);
      // "prio,seq,time,flags;message"
      lines.push(rec.slice(rec.indexOf(';') + 1).split('\n')[0] ?? '');
      total += n;
      if (total > MAX_LOG_BYTES) break;
    }
  } finally {
    closeSync(fd);
  }
  return lines.join('\n');
}

export function defaultKernelLogSources(timeoutMs = 10_000): KernelLogSource[] {
  return [
    { name: 'journalctl -k', read: () => run('journalctl', ['-k', '-b', '--no-pager', '-q', '-o', 'short-iso'], timeoutMs) },
    { name: 'dmesg', read: () => run('dmesg', [], timeoutMs) },
    {
      name: '/dev/kmsg',
      read: () => {
        try {
          return Promise.resolve(readKmsg('/dev/kmsg'));
        } catch (e) {
          return Promise.reject(e instanceof Error ? e : new Error(String(e)));
        }
      },
    },
  ];
}

export async function readXidErrors(options: { sources?: KernelLogSource[] } = {}): Promise<XidReport> {
  const unreadable: XidReport['unreadable'] = [];
  for (const source of options.sources ?? defaultKernelLogSources()) {
    let text: string;
    try {
      text = await source.read();
    } catch (e) {
      unreadable.push({ source: source.name, reason: (e instanceof Error ? e.message : String(e)).slice(0, 200) });
      continue;
    }
    // An empty journal (no persistent journal, or journald not running) is no evidence: try the next.
    if (text.trim() === '') {
      unreadable.push({ source: source.name, reason: 'empty' });
      continue;
    }
    return { source: source.name, events: parseXidLines(text), unreadable };
  }
  return { source: null, events: [], unreadable };
}
