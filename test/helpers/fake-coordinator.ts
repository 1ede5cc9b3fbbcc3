import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { KeyPair } from '../../proofs/keys.js';
import { signCoordinatorMessage, type Beacon } from '../../proofs/messages.js';

/**
 * A scripted coordinator for link tests: each connection runs `script`, which
 * can behave well or badly. Not the reference coordinator: that one has its own tests.
 */
export interface FakeConnection {
  ws: WebSocket;
  index: number;
  /** Messages the agent sent, parsed. */
  received: Record<string, unknown>[];
  next(type?: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  send(msg: object | string): void;
}

export interface FakeCoordinator {
  url: string;
  connections: FakeConnection[];
  close(): Promise<void>;
}

export async function startFakeCoordinator(script: (c: FakeConnection) => unknown): Promise<FakeCoordinator> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const connections: FakeConnection[] = [];
  wss.on('connection', (ws) => {
    const received: Record<string, unknown>[] = [];
    const waiters: { type: string | undefined; resolve: (m: Record<string, unknown>) => void }[] = [];
    let cursor = 0;
    const conn: FakeConnection = {
      ws,
      index: connections.length,
      received,
      next(type, timeoutMs = 10_000) {
        for (; cursor < received.length; cursor++) {
          const m = received[cursor]!;
          if (type === undefined || m['t'] === type) {
            cursor++;
            return Promise.resolve(m);
          }
        }
        return new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`no ${type ?? 'message'} within ${timeoutMs} ms`)), timeoutMs);
          waiters.push({
            type,
            resolve: (m) => {
              clearTimeout(t);
              resolve(m);
            },
          });
        });
      },
      send(msg) {
        if (ws.readyState === ws.OPEN) ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
      },
    };
    connections.push(conn);
    ws.on('message', (data) => {
      const m = JSON.parse((data as Buffer).toString('utf8')) as Record<string, unknown>;
      received.push(m);
      const w = waiters.findIndex((x) => x.type === undefined || x.type === m['t']);
      if (w >= 0) {
        cursor = received.length;
        waiters.splice(w, 1)[0]!.resolve(m);
      }
    });
    void Promise.resolve(script(conn)).catch(() => ws.terminate());
  });
  const port = (wss.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    connections,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

export function hello(key: KeyPair, overrides: Record<string, unknown> = {}): object {
  return signCoordinatorMessage({ t: 'hello' as const, proto: 1, coordinator: key.id, nonce: randomBytes(16).toString('hex'), time: Date.now(), ...overrides }, key);
}

export function beacon(key: KeyPair): Beacon {
  return signCoordinatorMessage({ t: 'beacon' as const, id: randomBytes(16).toString('hex'), time: Date.now() }, key);
}

/** hello -> auth -> welcome with the given head. Returns the auth message. */
export async function handshake(c: FakeConnection, key: KeyPair, head: { seq: number; hash: string } | null): Promise<Record<string, unknown>> {
  c.send(hello(key));
  const auth = await c.next('auth');
  c.send({ t: 'welcome', head, beacon: beacon(key), time: Date.now() });
  return auth;
}
