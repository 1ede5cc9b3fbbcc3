import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { CapanodeError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CapanodeError('config-invalid', `metricsListen "${listen}" is not HOST:PORT`, { hint: 'Example: 127.0.0.1:9750, or "off".' });
  }
  return { host, port };
}

/** Serves GET /metrics only; anything else is 404. Bound to loopback by default. */
export async function startMetricsServer(listen: string, registry: Registry, logger: Logger): Promise<MetricsServer> {
  const { host, port } = parseListen(listen);
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => {
        logger.warn({ err }, 'metrics collection failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new CapanodeError('io-error', `cannot serve metrics on ${listen}: ${err.code ?? err.message}`, { hint: err.code === 'EADDRINUSE' ? 'Another program uses that port: set metricsListen to another HOST:PORT, or "off".' : 'Check metricsListen.', cause: err })),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
