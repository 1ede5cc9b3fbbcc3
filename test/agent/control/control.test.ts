import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CapanodeError } from '../../../common/errors.js';
import { createLogger } from '../../../common/log.js';
import { controlRequest, startControlServer } from '../../../agent/control/index.js';
import { tempDir } from '../../helpers/tmp.js';

const logger = createLogger({ level: 'silent' });

function rawExchange(path: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) {
        s.end();
        resolve(out);
      }
    });
    s.on('error', reject);
    s.write(text);
  });
}

describe('control socket', () => {
  it('answers requests, carries typed errors, and is mode 0660', async () => {
    const path = join(tempDir(), 'control.sock');
    const server = await startControlServer({
      path,
      logger,
      handlers: {
        status: () => ({ up: true }),
        echo: (p) => p,
        fail: () => {
          throw new CapanodeError('journal-full', 'disk full', { hint: 'free space' });
        },
      },
    });
    try {
      expect(statSync(path).mode & 0o777).toBe(0o660);
      expect(await controlRequest(path, 'status')).toEqual({ up: true });
      expect(await controlRequest(path, 'echo', { a: 1 })).toEqual({ a: 1 });
      await expect(controlRequest(path, 'fail')).rejects.toMatchObject({ code: 'journal-full', hint: 'free space' });
      await expect(controlRequest(path, 'nope')).rejects.toMatchObject({ code: 'bad-input' });
      await expect(controlRequest(path, 'constructor')).rejects.toMatchObject({ code: 'bad-input' });
      expect(JSON.parse(await rawExchange(path, 'not json\n'))).toMatchObject({ ok: false, id: null, error: { code: 'bad-input' } });
      expect(JSON.parse(await rawExchange(path, 'x'.repeat(70_000)))).toMatchObject({ ok: false, error: { message: 'control request too large' } });
      // The server survives all of the above.
      expect(await controlRequest(path, 'status')).toEqual({ up: true });
    } finally {
      await server.close();
    }
  });

  it('reports daemon-not-running when there is no socket', async () => {
    await expect(controlRequest(join(tempDir(), 'none.sock'), 'status')).rejects.toMatchObject({ code: 'daemon-not-running' });
  });

  it('replaces a stale socket but refuses to delete a regular file', async () => {
    const dir = tempDir();
    const path = join(dir, 'control.sock');
    // A daemon killed with -9 leaves its socket file behind: bind one and exit without unlinking.
    expect(spawnSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path]).status).toBe(0);
    expect(statSync(path).isSocket()).toBe(true);
    const again = await startControlServer({ path, logger, handlers: { status: () => 1 } });
    expect(await controlRequest(path, 'status')).toBe(1);
    await again.close();
    const file = join(dir, 'file.sock');
    writeFileSync(file, 'data');
    await expect(startControlServer({ path: file, logger, handlers: {} })).rejects.toMatchObject({ code: 'io-error' });
  });
});
