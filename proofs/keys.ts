/**
 * Ed25519 keys. tweetnacl generates them (and is the reference the tests hold
 * node:crypto to); node:crypto signs and verifies (OpenSSL: ~100x faster, and
 * it rejects non-canonical signatures with S >= L that tweetnacl accepts).
 *
 * Key file format (docs/PROTOCOL.md §Key file), UTF-8 JSON, one object:
 *   {"v":1,"type":"ed25519","publicKey":HEX64,"secretKey":HEX64}
 * secretKey is the 32-byte RFC 8032 private key (the seed), publicKey the
 * 32-byte public key derived from it; a file whose two halves disagree is refused.
 */
import { createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import { z } from 'zod';
import { CapanodeError } from '../common/errors.js';

export interface KeyPair {
  /** 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  /** 32-byte RFC 8032 private key (seed). */
  secretKey: Uint8Array;
  /** Lowercase hex of publicKey: the node (or coordinator) id. */
  id: string;
  /** node:crypto handle used for signing. */
  privateKeyObject: KeyObject;
}

// DER prefixes that wrap a raw 32-byte Ed25519 key (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export const HEX64 = /^[0-9a-f]{64}$/;
export const HEX128 = /^[0-9a-f]{128}$/;

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new CapanodeError('bad-key', 'not lowercase hex of whole bytes');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** Builds a key pair from a 32-byte seed (RFC 8032 private key). */
export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  if (seed.length !== 32) throw new CapanodeError('bad-key', `an Ed25519 secret key is 32 bytes, got ${seed.length}`);
  const nk = nacl.sign.keyPair.fromSeed(seed);
  const publicKey = nk.publicKey;
  return {
    publicKey,
    secretKey: new Uint8Array(seed),
    id: toHex(publicKey),
    privateKeyObject: createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }),
  };
}

/** A fresh key pair from tweetnacl's CSPRNG (node:crypto randomBytes underneath). */
export function generateKeyPair(): KeyPair {
  return keyPairFromSeed(nacl.randomBytes(32));
}

/** Ed25519 signature (64 bytes) over message, by node:crypto. */
export function sign(message: Uint8Array, key: KeyPair): Uint8Array {
  return new Uint8Array(cryptoSign(null, message, key.privateKeyObject));
}

// Public KeyObjects are cached: building one costs about as much as a verify.
const publicKeyCache = new Map<string, KeyObject>();
const PUBLIC_KEY_CACHE_MAX = 100_000;

function publicKeyObject(publicKeyHex: string): KeyObject {
  let key = publicKeyCache.get(publicKeyHex);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(publicKeyHex, 'hex')]), format: 'der', type: 'spki' });
    if (publicKeyCache.size >= PUBLIC_KEY_CACHE_MAX) publicKeyCache.clear();
    publicKeyCache.set(publicKeyHex, key);
  }
  return key;
}

/**
 * Verifies an Ed25519 signature with node:crypto. Returns false (never throws)
 * for a malformed key or signature, a key that is not a curve point, or a
 * non-canonical signature (S >= L).
 */
export function verify(message: Uint8Array, signature: Uint8Array, publicKeyHex: string): boolean {
  if (signature.length !== 64 || !HEX64.test(publicKeyHex)) return false;
  try {
    return cryptoVerify(null, message, publicKeyObject(publicKeyHex), signature);
  } catch {
    return false;
  }
}

const KeyFileSchema = z.strictObject({
  v: z.literal(1),
  type: z.literal('ed25519'),
  publicKey: z.string().regex(HEX64, 'must be 64 lowercase hex characters'),
  secretKey: z.string().regex(HEX64, 'must be 64 lowercase hex characters'),
});

/** The key file's text (see the format above), with a trailing newline. */
export function encodeKeyFile(key: KeyPair): string {
  return `${JSON.stringify({ v: 1, type: 'ed25519', publicKey: key.id, secretKey: toHex(key.secretKey) })}\n`;
}

/** Parses a key file's text; `source` names the file in errors. Never echoes key material. */
export function parseKeyFile(text: string, source = 'key file'): KeyPair {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CapanodeError('bad-key', `${source} is not valid JSON`, { hint: 'Restore the key from your backup, or create a new identity with `capanode init --force` (a new node id).' });
  }
  const parsed = KeyFileSchema.safeParse(raw);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new CapanodeError('bad-key', `${source} is not a capanode key file (${fields})`, { hint: 'Expected {"v":1,"type":"ed25519","publicKey":HEX64,"secretKey":HEX64}.' });
  }
  const key = keyPairFromSeed(fromHex(parsed.data.secretKey));
  if (key.id !== parsed.data.publicKey) {
    throw new CapanodeError('bad-key', `${source}: publicKey does not match secretKey`, { hint: 'The file was edited or damaged; restore it from your backup.' });
  }
  return key;
}
