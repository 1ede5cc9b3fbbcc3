import { connect } from 'node:net';
import { CapanodeError, ERROR_CODES, type ErrorCode } from '../../common/errors.js';
import type { ControlResponse } from './protocol.js';

/**
 * One request to the running daemon. A missing or refused socket means the
 * daemon is not running: `daemon-not-running`, which the CLI turns into exit 3.
 */
export function controlRequest(path: string, method: string, params: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.setEncoding('utf8');
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new CapanodeError('link-error', `the daemon did not answer "${method}" within ${timeoutMs} ms`, { hint: 'It may be busy or hung: check `journalctl -u capanode`.' }));
    }, timeoutMs);
    socket.on('connect', () => socket.write(`${JSON.stringify({ id: 1, method, params })}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.end();
      let response: ControlResponse;
      try {
        response = JSON.parse(buffer.slice(0, nl)) as ControlResponse;
      } catch {
        reject(new CapanodeError('link-error', 'the daemon sent an unreadable answer'));
        return;
      }
      if (response.ok) resolve(response.result);
      else reject(new CapanodeError(codeOf(response.error.code), response.error.message, { ...(response.error.hint === undefined ? {} : { hint: response.error.hint }), ...(response.error.details === undefined ? {} : { details: response.error.details }) }));
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
        reject(new CapanodeError('daemon-not-running', `the capanode daemon is not running (no control socket at ${path})`, { hint: 'Start it: `systemctl start capanode`, or `capanode start` in a terminal.' }));
      } else if (err.code === 'EACCES') {
        reject(new CapanodeError('daemon-not-running', `permission denied on ${path}`, { hint: 'Run as root or as a member of the capanode group (`sudo usermod -aG capanode $USER`, then log in again).' }));
      } else {
        reject(new CapanodeError('link-error', `control socket ${path}: ${err.message}`));
      }
    });
  });
}

function codeOf(code: string): ErrorCode {
  return Object.hasOwn(ERROR_CODES, code) ? (code as ErrorCode) : 'link-error';
}
