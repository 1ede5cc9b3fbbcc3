import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { encodeKeyFile, fromHex, generateKeyPair, keyPairFromSeed, parseKeyFile, sign, toHex, verify } from '../../proofs/keys.js';

// RFC 8032 §7.1, TEST 1, 2, 3 and SHA(abc).
const RFC8032 = [
  {
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    secret: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    public: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

// The order of the Ed25519 base point.
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function leToBig(b: Uint8Array): bigint {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i] ?? 0);
  return x;
}
function bigToLe(x: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

describe('Ed25519', () => {
  it.each(RFC8032)('RFC 8032 vector $public through node:crypto and tweetnacl', (v) => {
    const key = keyPairFromSeed(fromHex(v.secret));
    expect(key.id).toBe(v.public);
    const msg = fromHex(v.message);
    expect(toHex(sign(msg, key))).toBe(v.signature);
    const nk = nacl.sign.keyPair.fromSeed(fromHex(v.secret));
    expect(toHex(nacl.sign.detached(msg, nk.secretKey))).toBe(v.signature);
    expect(verify(msg, fromHex(v.signature), v.public)).toBe(true);
    expect(nacl.sign.detached.verify(msg, fromHex(v.signature), fromHex(v.public))).toBe(true);
  });

  it('node:crypto and tweetnacl signatures are byte-identical for random keys and messages', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 512 }), (seed, msg) => {
        const key = keyPairFromSeed(seed);
        const nk = nacl.sign.keyPair.fromSeed(seed);
        expect(key.id).toBe(toHex(nk.publicKey));
        const a = sign(msg, key);
        expect(toHex(a)).toBe(toHex(nacl.sign.detached(msg, nk.secretKey)));
        expect(verify(msg, a, key.id)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('rejects a signature whose S was replaced by S + L, which tweetnacl accepts', () => {
    const key = generateKeyPair();
    const msg = new TextEncoder().encode('capanode');
    const sig = sign(msg, key);
    const s = leToBig(sig.subarray(32));
    expect(s < L).toBe(true);
    const malleated = new Uint8Array(64);
    malleated.set(sig.subarray(0, 32));
    malleated.set(bigToLe(s + L, 32), 32);
    expect(nacl.sign.detached.verify(msg, malleated, key.publicKey)).toBe(true);
    expect(verify(msg, malleated, key.id)).toBe(false);
  });

  it('rejects wrong messages, wrong keys and malformed inputs without throwing', () => {
    const key = generateKeyPair();
    const other = generateKeyPair();
    const msg = new Uint8Array([1, 2, 3]);
    const sig = sign(msg, key);
    expect(verify(new Uint8Array([1, 2, 4]), sig, key.id)).toBe(false);
    expect(verify(msg, sig, other.id)).toBe(false);
    expect(verify(msg, sig.subarray(0, 63), key.id)).toBe(false);
    expect(verify(msg, sig, 'zz'.repeat(32))).toBe(false);
    expect(verify(msg, sig, key.id.toUpperCase())).toBe(false);
    // A y-coordinate that is not on the curve.
    expect(verify(msg, sig, `02${'00'.repeat(31)}`)).toBe(false);
  });
});

describe('key file', () => {
  it('round-trips and keeps the node id', () => {
    const key = generateKeyPair();
    const text = encodeKeyFile(key);
    expect(JSON.parse(text)).toEqual({ v: 1, type: 'ed25519', publicKey: key.id, secretKey: toHex(key.secretKey) });
    const back = parseKeyFile(text);
    expect(back.id).toBe(key.id);
    expect(toHex(sign(new Uint8Array([9]), back))).toBe(toHex(sign(new Uint8Array([9]), key)));
  });

  it('refuses damaged files with a bad-key error that never echoes the secret', () => {
    const key = generateKeyPair();
    const secret = toHex(key.secretKey);
    const cases = [
      'not json',
      '{}',
      JSON.stringify({ v: 2, type: 'ed25519', publicKey: key.id, secretKey: secret }),
      JSON.stringify({ v: 1, type: 'ed25519', publicKey: key.id, secretKey: secret.slice(2) }),
      JSON.stringify({ v: 1, type: 'ed25519', publicKey: generateKeyPair().id, secretKey: secret }),
      JSON.stringify({ v: 1, type: 'ed25519', publicKey: key.id, secretKey: secret, extra: 1 }),
    ];
    for (const text of cases) {
      let err: unknown;
      try {
        parseKeyFile(text, '/tmp/node.key');
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'bad-key' });
      expect((err as Error).message).toContain('/tmp/node.key');
      expect((err as Error).message).not.toContain(secret);
    }
  });
});
