/**
 * The WebSocket endpoint: an HTTP server that only upgrades, a ws server
 * with explicit limits (1 MiB frames, no compression: a small deflated
 * frame could expand into a large one), one Session per connection, and
 * the registry that keeps one session per node.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { MAX_FRAME_BYTES, type Beacon } from '../proofs/messages.js';
import { ChallengeRounds } from './pot/rounds.js';
import { roundKey } from './pot/schedule.js';
import { Session, type SessionDeps, type SessionRegistry } from './session.js';

export interface LinkServer {
  listen(host: string, port: number): Promise<{ host: string; port: number }>;
  /** Closes every connection (1001) and stops listening; waits for their sessions to finish. */
  close(): Promise<void>;
  broadcast(beacon: Beacon): void;
  /** Node ids with an authenticated session. */
  connected(): string[];
  session(node: string): Session | undefined;
}

/** Try again later: the coordinator is at its connection limit. */
const CLOSE_TRY_AGAIN = 1013;

export function createLinkServer(deps: Omit<SessionDeps, 'registry' | 'potSchedule'>): LinkServer {
  const potSchedule = ChallengeRounds.create({
    key: roundKey(deps.key.secretKey),
    settings: { minIntervalMs: deps.config.challengeMinIntervalMs, maxIntervalMs: deps.config.challengeMaxIntervalMs },
    clock: deps.clock,
    store: deps.store,
    log: deps.log.child({ component: 'pot-rounds' }),
  });
  const byNode = new Map<string, Session>();
  const all = new Set<Session>();
  const registry: SessionRegistry = {
    claim(node, session) {
      if (byNode.has(node)) return false;
      byNode.set(node, session);
      return true;
    },
    release(node, session) {
      if (byNode.get(node) === session) byNode.delete(node);
    },
  };
  const http: Server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' });
    res.end('capanode coordinator: connect with a WebSocket client\n');
  });
  const wss = new WebSocketServer({ server: http, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false });
  wss.on('error', (e) => deps.log.error({ err: e }, 'WebSocket server error'));
  wss.on('connection', (ws, req) => {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    if (all.size >= deps.config.maxConnections) {
      ws.on('error', () => undefined);
      ws.close(CLOSE_TRY_AGAIN, 'too many connections');
      return;
    }
    const session = new Session(ws, remote, { ...deps, registry, potSchedule });
    all.add(session);
    void session.closed.then(() => all.delete(session));
    try {
      session.start();
    } catch (e) {
      deps.log.error({ err: e }, 'could not start a session');
      ws.terminate();
    }
  });

  const sweeper = setInterval(() => deps.limiter.sweep(deps.clock.monotonic(), (node) => byNode.has(node)), 60_000);
  sweeper.unref();

  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          http.on('error', (e) => deps.log.error({ err: e }, 'HTTP server error'));
          const addr = http.address() as AddressInfo;
          resolve({ host: addr.address, port: addr.port });
        });
      });
    },
    async close() {
      clearInterval(sweeper);
      const closing = new Promise<void>((resolve) => http.close(() => resolve()));
      for (const s of all) s.close(1001, 'coordinator shutting down');
      await Promise.race([Promise.all([...all].map((s) => s.closed)), new Promise((r) => setTimeout(r, 5000).unref())]);
      http.closeAllConnections();
      for (const s of all) s.terminate();
      await Promise.all([...all].map((s) => s.closed));
      wss.close();
      await closing;
    },
    broadcast(beacon) {
      for (const s of byNode.values()) s.sendBeacon(beacon);
    },
    connected: () => [...byNode.keys()],
    session: (node) => byNode.get(node),
  };
}
