import { describe, expect, it } from 'vitest';
import { canonicalize } from '../../proofs/canonical.js';
import { buildEnvelope, checkRecord, hashEnvelope, recordLine, signEnvelope, signingMessage, ZERO_HASH } from '../../proofs/envelope.js';
import { generateKeyPair, verify } from '../../proofs/keys.js';
import { makeChain, testKey, uptimeBody } from '../helpers/keys.js';

describe('envelope', () => {
  const key = testKey();

  it('builds, signs and verifies every kind', () => {
    const chain = makeChain(key, 5);
    expect(chain.map((r) => r.record.env.kind)).toEqual(['uptime', 'uptime', 'throughput', 'usage', 'claim']);
    for (const r of chain) {
      const checked = checkRecord(JSON.parse(recordLine(r.record)));
      expect(checked).toMatchObject({ ok: true, value: { hash: r.hash, canonical: r.canonical } });
    }
  });

  it('signs the domain-separated canonical bytes and hashes the canonical envelope', () => {
    const env = buildEnvelope({ kind: 'uptime', node: key.id, seq: 1, prev: ZERO_HASH, time: 1, body: uptimeBody(0) });
    const rec = signEnvelope(env, key);
    expect(rec.canonical).toBe(canonicalize(env));
    expect(signingMessage(rec.canonical).toString('utf8').startsWith('capanode:attestation:v1\n{"body":')).toBe(true);
    expect(verify(signingMessage(rec.canonical), Buffer.from(rec.record.sig, 'hex'), key.id)).toBe(true);
    expect(rec.hash).toBe(hashEnvelope(env));
    expect(rec.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses to build an envelope with a float measurement, naming the field', () => {
    const body = { ...uptimeBody(0), gpus: [{ ...uptimeBody(0).gpus[0], util: 12.5 }] } as unknown as ReturnType<typeof uptimeBody>;
    expect(() => buildEnvelope({ kind: 'uptime', node: key.id, seq: 1, prev: ZERO_HASH, time: 1, body })).toThrow(/env\.body\.gpus\[0\]\.util/);
  });

  it('refuses to build an envelope that breaks the schema, naming every field', () => {
    const body = { ...uptimeBody(0), beacon: 'nothex', host: { uptimeS: -1, load1Milli: 0 } };
    expect(() => buildEnvelope({ kind: 'uptime', node: key.id, seq: 0, prev: ZERO_HASH, time: 1, body })).toThrow(/env\.seq.*env\.body\.beacon.*env\.body\.host\.uptimeS|env\.body\.beacon/s);
  });

  it('refuses to sign for another node', () => {
    const env = buildEnvelope({ kind: 'uptime', node: key.id, seq: 1, prev: ZERO_HASH, time: 1, body: uptimeBody(0) });
    expect(() => signEnvelope(env, generateKeyPair())).toThrow(/is not the signing key/);
  });

  describe('checkRecord on untrusted input', () => {
    const good = JSON.parse(recordLine(makeChain(key, 1)[0]!.record)) as { env: Record<string, unknown>; sig: string };
    const cases: [string, unknown, string, string][] = [
      ['null', null, 'schema', ''],
      ['an array', [], 'schema', ''],
      ['a missing sig', { env: good.env }, 'schema', 'sig'],
      ['an extra top-level field', { ...good, extra: 1 }, 'schema', 'extra'],
      ['an unknown kind', { ...good, env: { ...good.env, kind: 'bogus' } }, 'schema', 'env.kind'],
      ['a float in the body', { ...good, env: { ...good.env, body: { ...(good.env['body'] as object), from: 0.5 } } }, 'non-canonical', 'env.body.from'],
      ['a huge integer', { ...good, env: { ...good.env, seq: 2 ** 60 } }, 'non-canonical', 'env.seq'],
      ['an uppercase sig', { ...good, sig: good.sig.toUpperCase() }, 'schema', 'sig'],
      ['a flipped sig bit', { ...good, sig: (good.sig[0] === '0' ? '1' : '0') + good.sig.slice(1) }, 'bad-signature', 'sig'],
      ['a changed time', { ...good, env: { ...good.env, time: 2 } }, 'bad-signature', 'sig'],
    ];
    it.each(cases)('%s', (_what, raw, code, path) => {
      const r = checkRecord(raw);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.problem).toMatchObject({ code, path });
    });
  });
});
