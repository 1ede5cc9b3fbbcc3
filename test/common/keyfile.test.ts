import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readKeyFile, writeKeyFile } from '../../common/keyfile.js';
import { generateKeyPair } from '../../proofs/keys.js';
import { thrown } from '../helpers/errors.js';

const dir = () => mkdtempSync(join(tmpdir(), 'capanode-keyfile-'));

describe('key files', () => {
  it('creates the key with mode 0600 and reads it back', () => {
    const path = join(dir(), 'sub', 'node.key');
    const key = generateKeyPair();
    writeKeyFile(path, key, { overwrite: false });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readKeyFile(path).id).toBe(key.id);
  });

  it('refuses to overwrite without overwrite, and keeps the old key', () => {
    const path = join(dir(), 'node.key');
    const key = generateKeyPair();
    writeKeyFile(path, key, { overwrite: false });
    expect(() => writeKeyFile(path, generateKeyPair(), { overwrite: false })).toThrow(/already exists/);
    expect(readKeyFile(path).id).toBe(key.id);
    const next = generateKeyPair();
    writeKeyFile(path, next, { overwrite: true });
    expect(readKeyFile(path).id).toBe(next.id);
  });

  it.each([0o640, 0o604, 0o644])('refuses a key file with mode %o', (mode) => {
    const path = join(dir(), 'node.key');
    writeKeyFile(path, generateKeyPair(), { overwrite: false });
    chmodSync(path, mode);
    const e = thrown(() => readKeyFile(path));
    expect(e.code).toBe('key-permissions');
    expect(e.hint).toContain('chmod 600');
  });

  it('names a missing file and says how to create one', () => {
    const e = thrown(() => readKeyFile(join(dir(), 'missing.key')));
    expect(e.code).toBe('io-error');
    expect(e.hint).toContain('capanode init');
  });

  it('reports a damaged file as bad-key without echoing its content', () => {
    const path = join(dir(), 'node.key');
    writeFileSync(path, 'secret-garbage', { mode: 0o600 });
    expect(thrown(() => readKeyFile(path)).code).toBe('bad-key');
    expect(readFileSync(path, 'utf8')).toBe('secret-garbage');
  });
});
