import { chmodSync, unlinkSync, lstatSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { CapanodeError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { ControlRequestSchema, MAX_CONTROL_LINE, type ControlResponse } from './protocol.js';

export type ControlHandler = (params: Record<string, unknown>) => unknown;

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

export interface ControlServerOptions {
  path: string;
  handlers: Record<string, ControlHandler>;
  logger: Logger;
  /** Socket file mode: owner and group (the capanode group) only. */
  mode?: number;
}

function errorResponse(id: number | null, e: unknown): ControlResponse {
  if (e instanceof CapanodeError) return { id, ok: false, error: e.toJSON() };
  return { id, ok: false, error: { code: 'internal', message: e instanceof Error ? e.message : String(e) } };
}

function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
    else throw new CapanodeError('io-error', `${path} exists and is not a socket`, { hint: 'Move the file away; capanode creates its control socket there.' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/**
 * Listens on a unix socket. The daemon holds the journal lock before it gets
 * here, so a socket file left by a crashed daemon is stale and safe to replace.
 */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  removeStaleSocket(options.path);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setEncoding('utf8');
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_CONTROL_LINE && !buffer.includes('\n')) {
        socket.end(`${JSON.stringify(errorResponse(null, new CapanodeError('bad-input', 'control request too large')))}\n`);
        return;
      }
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim() !== '') void handle(socket, line);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(socket: Socket, line: string): Promise<void> {
    let response: ControlResponse;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      raw = undefined;
    }
    const parsed = ControlRequestSchema.safeParse(raw);
    if (!parsed.success) {
      response = errorResponse(null, new CapanodeError('bad-input', 'malformed control request'));
    } else {
      const { id, method, params } = parsed.data;
      const handler = Object.hasOwn(options.handlers, method) ? options.handlers[method] : undefined;
      if (handler === undefined) {
        response = errorResponse(id, new CapanodeError('bad-input', `unknown control method "${method}"`, { hint: 'The CLI and the daemon may be different versions: restart the daemon after an upgrade.' }));
      } else {
        try {
          response = { id, ok: true, result: await handler(params) };
        } catch (e) {
          options.logger.warn({ err: e, method }, 'control request failed');
          response = errorResponse(id, e);
        }
      }
    }
    if (!socket.destroyed) socket.write(`${JSON.stringify(response)}\n`);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(options.path, options.mode ?? 0o660);
  server.on('error', (err) => options.logger.error({ err }, 'control socket error'));
  return {
    path: options.path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          try {
            unlinkSync(options.path);
          } catch {
            // already removed
          }
          resolve();
        });
      }),
  };
}
