import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkRecord, recordLine, signingMessage, type Envelope } from '../../proofs/envelope.js';
import { fromHex, keyPairFromSeed, sign, toHex } from '../../proofs/keys.js';

const doc = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');
const example = doc.slice(doc.indexOf('### Worked example'), doc.indexOf('## 4. Proof of Throughput'));
const blocks = [...example.matchAll(/```\n([\s\S]*?)```/g)].map((m) => (m[1] ?? '').trim());

describe('docs/PROTOCOL.md worked example', () => {
  const [keys, canonical, hashSig, line] = blocks;
  const secret = /secretKey ([0-9a-f]{64})/.exec(keys ?? '')?.[1] ?? '';
  const pub = /publicKey ([0-9a-f]{64})/.exec(keys ?? '')?.[1] ?? '';
  const hash = /hash ([0-9a-f]{64})/.exec(hashSig ?? '')?.[1] ?? '';
  const sig = /sig +([0-9a-f]{128})/.exec(hashSig ?? '')?.[1] ?? '';

  it('derives the documented public key', () => {
    expect(keyPairFromSeed(fromHex(secret)).id).toBe(pub);
  });

  it('the documented line verifies, with the documented canonical text, length, hash and signature', () => {
    const checked = checkRecord(JSON.parse(line ?? ''));
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    expect(checked.value.canonical).toBe(canonical);
    expect(example).toContain(`(${Buffer.byteLength(canonical ?? '')} bytes`);
    expect(checked.value.hash).toBe(hash);
    expect(checked.value.record.sig).toBe(sig);
    expect(recordLine(checked.value.record)).toBe(line);
    const key = keyPairFromSeed(fromHex(secret));
    expect(toHex(sign(signingMessage(canonical ?? ''), key))).toBe(sig);
    expect(example).toContain(Buffer.from('capanode:attestation:v1\n').toString('hex'));
    expect((JSON.parse(canonical ?? '') as Envelope).node).toBe(pub);
  });
});
