import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sdNotify } from '../../native/index.js';
import { tempDir } from '../helpers/tmp.js';

// Node has no unix datagram sockets; python3 (which node-gyp needs anyway) plays systemd's end.
const RECEIVER = `
import socket, sys
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\\0" + addr[1:] if addr.startswith("@") else addr)
s.settimeout(10)
print("ready", flush=True)
data = s.recv(4096)
print("got " + data.decode(), flush=True)
`;

function receiver(address: string): Promise<{ child: ChildProcessWithoutNullStreams; message: Promise<string> }> {
  const child = spawn('python3', ['-c', RECEIVER, address]);
  let out = '';
  return new Promise((resolve, reject) => {
    const message = new Promise<string>((done, fail) => {
      child.on('close', (code) => (out.includes('got ') ? done(out.slice(out.indexOf('got ') + 4).trimEnd()) : fail(new Error(`receiver exited ${code}: ${out}`))));
    });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.startsWith('ready')) resolve({ child, message });
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
  });
}

const saved = process.env['NOTIFY_SOCKET'];
afterEach(() => {
  if (saved === undefined) Reflect.deleteProperty(process.env, 'NOTIFY_SOCKET');
  else process.env['NOTIFY_SOCKET'] = saved;
});

describe('sdNotify', () => {
  it('does nothing outside systemd', () => {
    Reflect.deleteProperty(process.env, 'NOTIFY_SOCKET');
    expect(sdNotify('READY=1')).toBe(false);
  });

  it('sends one datagram to a socket path', async () => {
    const path = join(tempDir(), 'notify.sock');
    const { message } = await receiver(path);
    process.env['NOTIFY_SOCKET'] = path;
    expect(sdNotify('READY=1\nSTATUS=serving')).toBe(true);
    expect(await message).toBe('READY=1\nSTATUS=serving');
  });

  it('sends to an abstract socket (@name)', async () => {
    const name = `@capanode-test-${randomBytes(6).toString('hex')}`;
    const { message } = await receiver(name);
    process.env['NOTIFY_SOCKET'] = name;
    expect(sdNotify('STOPPING=1')).toBe(true);
    expect(await message).toBe('STOPPING=1');
  });

  it('returns false when nobody listens or the address is malformed', () => {
    process.env['NOTIFY_SOCKET'] = join(tempDir(), 'absent.sock');
    expect(sdNotify('READY=1')).toBe(false);
    process.env['NOTIFY_SOCKET'] = 'relative/path.sock';
    expect(sdNotify('READY=1')).toBe(false);
  });
});
