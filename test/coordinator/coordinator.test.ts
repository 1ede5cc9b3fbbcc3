/**
 * The coordinator embedded in-process (as `capanode start --devnet` runs
 * it): start, stream, beacons, heartbeats, challenge on demand, close, and
 * start again over the same store.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCoordinator } from '../../coordinator/index.js';
import { createLogger } from '../../common/log.js';
import { signAuth, verifyCoordinatorMessage, type Beacon } from '../../proofs/messages.js';
import { makeChain, testKey } from '../helpers/keys.js';
import { openConnection, SimAgent } from '../helpers/sim-agent.js';
import { tempDir } from '../helpers/tmp.js';

const key = testKey('embedded-coordinator');
const silent = createLogger({ level: 'silent' });

describe('startCoordinator (embedded)', () => {
  it('serves, closes cleanly, and starts again over the same store with the head intact', async () => {
    const store = `sqlite:${join(tempDir(), 'ledger.db')}`;
    const node = testKey('embedded-node');
    const chain = makeChain(node, 50);
    let c = await startCoordinator({ key, store, listen: '127.0.0.1:0', logger: silent, config: { potEnabled: false } });
    expect(c.url).toBe(`ws://127.0.0.1:${c.port}`);
    expect(c.id).toBe(key.id);
    const a = await SimAgent.connect({ url: c.url, coordinatorId: c.id, key: node });
    a.sendRecords(chain.slice(0, 30));
    await a.waitForAck(30);
    expect(c.connected()).toEqual([node.id]);
    await c.close();
    expect((await a.closed).code).toBe(1001);
    await c.close();

    c = await startCoordinator({ key, store, listen: '127.0.0.1:0', logger: silent, config: { potEnabled: false } });
    const b = await SimAgent.connect({ url: c.url, coordinatorId: c.id, key: node });
    expect(b.welcome.head).toEqual({ seq: 30, hash: chain[29]!.hash });
    expect(await c.store.getNode(node.id)).toMatchObject({ connected: true, headSeq: 30 });
    await b.close();
    await c.close();
  });

  it('sends every node a fresh signed beacon each beaconInterval', async () => {
    const c = await startCoordinator({ key, store: `sqlite:${join(tempDir(), 'ledger.db')}`, listen: '127.0.0.1:0', logger: silent, config: { potEnabled: false, beaconIntervalMs: 100 } });
    const a = await SimAgent.connect({ url: c.url, coordinatorId: c.id, key: testKey('embedded-beacons') });
    const ids = new Set<string>([a.welcome.beacon.id]);
    while (ids.size < 3) {
      const b = await a.waitFor((m): m is Beacon => m.t === 'beacon' && !ids.has(m.id));
      expect(verifyCoordinatorMessage(b, c.id)).toBe(true);
      ids.add(b.id);
    }
    await a.close();
    await c.close();
  });

  it('terminates a connection that stops answering pings', async () => {
    const c = await startCoordinator({ key, store: `sqlite:${join(tempDir(), 'ledger.db')}`, listen: '127.0.0.1:0', logger: silent, config: { potEnabled: false, pingIntervalMs: 50 } });
    const node = testKey('embedded-silent');
    // A client that never answers pings: a dead peer behind a live TCP connection.
    const conn = await openConnection(c.url, { autoPong: false });
    conn.ws.send(JSON.stringify({ t: 'auth', node: node.id, sig: signAuth(conn.hello.nonce, c.id, node), agent: 'capanode/0', inventory: { gpus: [] } }));
    expect(JSON.parse(await conn.next())).toMatchObject({ t: 'welcome' });
    expect((await conn.closed).code).toBe(1006);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.connected()).toEqual([]);
    await c.close();
  });

  it('challenges a node on demand', async () => {
    const c = await startCoordinator({
      key,
      store: `sqlite:${join(tempDir(), 'ledger.db')}`,
      listen: '127.0.0.1:0',
      logger: silent,
      config: { challengeMinIntervalMs: 3_600_000, challengeMaxIntervalMs: 3_600_000, potCpuN: 64, potReps: 2, potK: 4 },
    });
    const node = testKey('embedded-pot');
    const a = await SimAgent.connect({ url: c.url, coordinatorId: c.id, key: node });
    expect(await c.challengeNow(node.id)).toBe(true);
    expect(await a.waitForVerdict()).toMatchObject({ ok: true });
    expect(await c.challengeNow('ab'.repeat(32))).toBe(false);
    await a.close();
    await c.close();
  });
});
