import { describe, expect, it } from 'vitest';
import { recordLine } from '../../proofs/envelope.js';
import { sign, toHex } from '../../proofs/keys.js';
import {
  AUTH_DOMAIN,
  authMessage,
  CLOSE,
  COORDINATOR_DOMAIN,
  coordinatorSigningBytes,
  decodeFrame,
  MAX_ATT_RECORDS,
  MAX_FRAME_BYTES,
  NACK_CODES,
  packAttFrames,
  parseAgentMessage,
  parseCoordinatorMessage,
  signAuth,
  signCoordinatorMessage,
  verifyAuth,
  verifyCoordinatorMessage,
} from '../../proofs/messages.js';
import { ERROR_CODES } from '../../common/errors.js';
import { canonicalize } from '../../proofs/canonical.js';
import { makeChain, testKey } from '../helpers/keys.js';
import { malleateSignature } from '../helpers/sim-agent.js';

const coordinator = testKey('messages-coordinator');
const node = testKey('messages-node');

/** The same signature with S replaced by S + L: valid for tweetnacl, non-canonical for RFC 8032 (and node:crypto). */

describe('coordinator signatures', () => {
  const beacon = signCoordinatorMessage({ t: 'beacon' as const, id: '0f'.repeat(16), time: 1_764_000_000_000 }, coordinator);

  it('signs "capanode:coordinator:v1\\n" ++ canonical(message without sig), t included', () => {
    expect(coordinatorSigningBytes({ t: 'beacon', time: 5, id: 'ab' }).toString('utf8')).toBe(`${COORDINATOR_DOMAIN}{"id":"ab","t":"beacon","time":5}`);
    expect(beacon.sig).toBe(toHex(sign(Buffer.from(`${COORDINATOR_DOMAIN}${canonicalize({ id: beacon.id, t: 'beacon', time: beacon.time })}`), coordinator)));
    expect(verifyCoordinatorMessage(beacon, coordinator.id)).toBe(true);
    expect(parseCoordinatorMessage(beacon).ok).toBe(true);
  });

  it('rejects another key, any changed field, a swapped type, a missing sig and S >= L', () => {
    expect(verifyCoordinatorMessage(beacon, node.id)).toBe(false);
    expect(verifyCoordinatorMessage({ ...beacon, time: beacon.time + 1 }, coordinator.id)).toBe(false);
    // A signature for one type never verifies as another with the same fields.
    expect(verifyCoordinatorMessage({ ...beacon, t: 'hello' }, coordinator.id)).toBe(false);
    const { sig: _sig, ...unsigned } = beacon;
    expect(verifyCoordinatorMessage(unsigned, coordinator.id)).toBe(false);
    expect(verifyCoordinatorMessage({ ...beacon, sig: malleateSignature(beacon.sig) }, coordinator.id)).toBe(false);
    expect(verifyCoordinatorMessage({ ...beacon, extra: 1.5 }, coordinator.id)).toBe(false);
  });

  it('refuses to sign a message that already carries a sig', () => {
    expect(() => signCoordinatorMessage({ ...beacon }, coordinator)).toThrow(/already has a sig/);
  });
});

describe('auth', () => {
  const nonce = '00112233445566778899aabbccddeeff';

  it('is a signature over "capanode:auth:v1\\n" ++ nonce ++ coordinator as hex text', () => {
    expect(authMessage(nonce, coordinator.id).toString('utf8')).toBe(`${AUTH_DOMAIN}${nonce}${coordinator.id}`);
    const sig = signAuth(nonce, coordinator.id, node);
    expect(verifyAuth(nonce, coordinator.id, node.id, sig)).toBe(true);
  });

  it('does not verify for another nonce (a replay), another coordinator, another node, or S >= L', () => {
    const sig = signAuth(nonce, coordinator.id, node);
    expect(verifyAuth('ff'.repeat(16), coordinator.id, node.id, sig)).toBe(false);
    expect(verifyAuth(nonce, node.id, node.id, sig)).toBe(false);
    expect(verifyAuth(nonce, coordinator.id, coordinator.id, sig)).toBe(false);
    expect(verifyAuth(nonce, coordinator.id, node.id, malleateSignature(sig))).toBe(false);
    expect(verifyAuth(nonce, coordinator.id, node.id, 'zz')).toBe(false);
  });
});

describe('message schemas', () => {
  const auth = { t: 'auth', node: node.id, sig: 'ab'.repeat(64), agent: 'capanode/0.1.0', inventory: { gpus: [{ uuid: 'GPU-5f5fa2a3-6d4b-2b1c-9a4c-2a3bb5a0e8e1', name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81_559 }] } };

  it('accepts every agent message type in its documented shape', () => {
    const ok = [
      auth,
      { t: 'att', items: [{}] },
      { t: 'commit', id: 'c-1', root: 'ab'.repeat(32), elapsedUs: 5_000_000, device: 'cpu' },
      { t: 'reveal', id: 'c-1', items: [{ r: 0, digests: 'AAAAAAAAAAA=', path: ['cd'.repeat(32)] }] },
      { t: 'job', job: 'j-1', state: 'done', reason: null, usageSeq: 12 },
    ];
    for (const m of ok) expect(parseAgentMessage(m), JSON.stringify(m)).toMatchObject({ ok: true });
  });

  it('accepts every coordinator message type in its documented shape', () => {
    const beacon = signCoordinatorMessage({ t: 'beacon' as const, id: '0f'.repeat(16), time: 1 }, coordinator);
    const ok = [
      signCoordinatorMessage({ t: 'hello' as const, proto: 1, coordinator: coordinator.id, nonce: '00'.repeat(16), time: 1 }, coordinator),
      { t: 'welcome', head: { seq: 4, hash: 'ab'.repeat(32) }, beacon, time: 2 },
      { t: 'welcome', head: null, beacon, time: 2 },
      { t: 'ack', seq: 3 },
      { t: 'nack', seq: null, code: 'bad-message', message: 'x', expected: 1 },
      beacon,
      signCoordinatorMessage({ t: 'challenge' as const, id: 'c-1', seed: 'ab'.repeat(32), n: 4096, reps: 100, dtype: 'f16' as const, deadlineMs: 60_000 }, coordinator),
      { t: 'open', id: 'c-1', checks: [[0, 1], [5, 4095]] },
      signCoordinatorMessage({ t: 'verdict' as const, id: 'c-1', ok: true, gflops: 412_000, reason: null }, coordinator),
      signCoordinatorMessage({ t: 'assign' as const, job: 'j-1', workload: 'exec' as const, params: { argv: ['nvidia-smi'], timeoutMs: 1000 }, deadlineMs: 60_000 }, coordinator),
      signCoordinatorMessage({ t: 'receipt' as const, claimSeq: 9, amount: 1_000_000, epochs: [3, 7] as [number, number] }, coordinator),
    ];
    for (const m of ok) expect(parseCoordinatorMessage(m), JSON.stringify(m)).toMatchObject({ ok: true });
  });

  it('names the problem: unknown type, unknown field, wrong type, too long, out of range', () => {
    const cases: [unknown, RegExp][] = [
      ['just a string', /JSON object/],
      [[1, 2], /JSON object/],
      [{ no: 't' }, /t: undefined is not one of the agent message types/],
      [{ t: 'welcome' }, /"welcome" is not one of the agent message types/],
      [{ ...auth, extra: 1 }, /extra: unknown field/],
      [{ ...auth, node: 5 }, /node:/],
      [{ ...auth, agent: 'x'.repeat(100) }, /agent: must be NAME\/VERSION/],
      [{ ...auth, inventory: { gpus: Array.from({ length: 65 }, () => auth.inventory.gpus[0]) } }, /inventory\.gpus/],
      [{ t: 'commit', id: 'c-1', root: 'ab'.repeat(32), elapsedUs: 2 ** 60, device: 'cpu' }, /elapsedUs/],
      [{ t: 'commit', id: 'x'.repeat(65), root: 'ab'.repeat(32), elapsedUs: 1, device: 'cpu' }, /id/],
      [{ t: 'commit', id: 'c', root: 'AB'.repeat(32), elapsedUs: 1, device: 'cpu' }, /root: must be 64 lowercase hex/],
      [{ t: 'att', items: [] }, /items/],
      [{ t: 'att', items: 'nope' }, /items/],
      [{ t: 'reveal', id: 'c', items: [{ r: 0, digests: 'x'.repeat(50_000), path: [] }] }, /digests/],
    ];
    for (const [raw, why] of cases) {
      const r = parseAgentMessage(raw);
      expect(r.ok, JSON.stringify(raw).slice(0, 80)).toBe(false);
      if (!r.ok) {
        expect(r.problem.code).toBe('bad-message');
        expect(r.problem.message).toMatch(why);
      }
    }
  });

  it('bounds challenge parameters to the protocol (n a multiple of 64 in [64, 4096], f16 only)', () => {
    const base = { t: 'challenge', id: 'c', seed: 'ab'.repeat(32), n: 128, reps: 2, dtype: 'f16', deadlineMs: 1000, sig: 'ab'.repeat(64) };
    expect(parseCoordinatorMessage(base).ok).toBe(true);
    for (const bad of [{ n: 100 }, { n: 8192 }, { n: 0 }, { reps: 0 }, { dtype: 'f32' }, { deadlineMs: 0 }]) expect(parseCoordinatorMessage({ ...base, ...bad }).ok, JSON.stringify(bad)).toBe(false);
  });

  it('decodeFrame turns bad JSON into a problem, never a throw', () => {
    expect(decodeFrame('{"t":')).toMatchObject({ ok: false, problem: { code: 'bad-message' } });
    expect(decodeFrame('{"t":"ack","seq":1}')).toEqual({ ok: true, value: { t: 'ack', seq: 1 } });
  });
});

describe('codes', () => {
  it('every nack code is a registered error code', () => {
    for (const code of NACK_CODES) expect(Object.keys(ERROR_CODES)).toContain(code);
  });

  it('keeps the close codes of DESIGN §5', () => {
    expect(CLOSE).toMatchObject({ authFailed: 4001, unsupportedProto: 4002, alreadyConnected: 4003, rateLimited: 4008, tooBig: 4009, fork: 4010 });
  });
});

describe('packAttFrames', () => {
  const key = testKey('messages-frames');
  const lines = makeChain(key, 700).map((r) => recordLine(r.record));

  it('keeps order, at most 256 records and 1 MiB a frame, each frame a valid att message', () => {
    const frames = packAttFrames(lines);
    expect(frames).toHaveLength(3);
    const items = frames.flatMap((f) => {
      expect(Buffer.byteLength(f)).toBeLessThanOrEqual(MAX_FRAME_BYTES);
      const parsed = parseAgentMessage(JSON.parse(f));
      expect(parsed.ok).toBe(true);
      const att = JSON.parse(f) as { items: unknown[] };
      expect(att.items.length).toBeLessThanOrEqual(MAX_ATT_RECORDS);
      return att.items.map((i) => canonicalize(i));
    });
    expect(items).toEqual(lines);
  });

  it('splits by bytes when records are large', () => {
    const frames = packAttFrames(lines, { bytes: 10_000 });
    for (const f of frames) expect(Buffer.byteLength(f)).toBeLessThanOrEqual(10_000);
    expect(frames.flatMap((f) => (JSON.parse(f) as { items: unknown[] }).items)).toHaveLength(lines.length);
  });

  it('refuses a record that cannot fit in any frame', () => {
    expect(() => packAttFrames(['x'.repeat(MAX_FRAME_BYTES)])).toThrow(/does not fit/);
  });
});
