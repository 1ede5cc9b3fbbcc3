/**
 * Key files on disk: created atomically with mode 0600 from the first byte
 * (temp file in the same folder, fsync, rename), and refused when group or
 * others can read them, as ssh refuses a private key.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, mkdirSync, constants } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CapanodeError } from './errors.js';
import { encodeKeyFile, parseKeyFile, type KeyPair } from '../proofs/keys.js';

export function readKeyFile(path: string): KeyPair {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CapanodeError('io-error', `cannot read key file ${path}: ${code === 'ENOENT' ? 'it does not exist' : String(code)}`, {
      hint: code === 'ENOENT' ? 'Run `capanode init` to create this node\'s key, or point --data-dir at the directory that holds node.key.' : 'Check the file\'s owner and permissions.',
      cause: e,
    });
  }
  if ((mode & 0o077) !== 0) {
    throw new CapanodeError('key-permissions', `key file ${path} is accessible by group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')})`, {
      hint: `Run \`chmod 600 ${path}\`. If someone else could read it, the key is compromised: create a new identity with \`capanode init --force\`.`,
    });
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CapanodeError('io-error', `cannot read key file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { hint: 'Check the file\'s owner and permissions.', cause: e });
  }
  return parseKeyFile(text, path);
}

/** Writes text to path atomically with the given mode; refuses to replace an existing file unless overwrite. */
export function writeFileAtomic(path: string, text: string, options: { mode: number; overwrite: boolean }): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  // O_EXCL + mode at creation: the secret is never readable by others, not even for an instant.
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, options.mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    if (!options.overwrite) {
      let exists = true;
      try {
        statSync(path);
      } catch {
        exists = false;
      }
      if (exists) throw new CapanodeError('io-error', `${path} already exists`, { hint: 'Pass --force to replace it (for a key: a new node id, and the old one\'s unclaimed credits stay with the old key).' });
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
  // fsync the directory so the rename itself survives a power cut.
  try {
    const dfd = openSync(dirname(path), constants.O_RDONLY);
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the data itself is synced.
  }
}

export function writeKeyFile(path: string, key: KeyPair, options: { overwrite: boolean }): void {
  writeFileAtomic(path, encodeKeyFile(key), { mode: 0o600, overwrite: options.overwrite });
}
