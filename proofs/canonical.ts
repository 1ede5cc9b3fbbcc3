/**
 * Canonical JSON (DESIGN §4): object keys sorted, no whitespace, strings
 * escaped as JSON.stringify does. Only objects, arrays, strings, booleans,
 * null and safe integers are allowed, and keys must be ASCII. Anything else is
 * an error naming the path to the value, never silently converted: two
 * implementations must agree byte for byte on what is signed.
 */
import { CapanodeError } from '../common/errors.js';

export class CanonicalError extends CapanodeError {
  readonly path: string;
  constructor(path: string, problem: string) {
    super('non-canonical', `${path === '' ? '(root)' : path}: ${problem}`, {
      hint: 'Measurements are integers in stated units (MB/s, GFLOP/s, mW, mJ, ms); round before signing.',
      details: { path },
    });
    this.path = path;
  }
}


function isAscii(key: string): boolean {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 0x7f) return false;
  return true;
}

function childPath(path: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? (path === '' ? key : `${path}.${key}`) : `${path}[${JSON.stringify(key)}]`;
}

function describe(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return 'an infinite number';
    if (!Number.isInteger(value)) return `a float (${value})`;
    return `an integer outside the safe range (${value})`;
  }
  if (value === undefined) return 'undefined';
  if (typeof value === 'object') return `an object of type ${(value as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'unknown'}`;
  return `a ${typeof value}`;
}

function encode(value: unknown, path: string, out: string[]): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isSafeInteger(value)) throw new CanonicalError(path, `${describe(value)} is not allowed; only safe integers are`);
      // -0 is a safe integer; it encodes as 0, as JSON.stringify does.
      out.push(String(value === 0 ? 0 : value));
      return;
    case 'object': {
      if (value === null) {
        out.push('null');
        return;
      }
      if (Array.isArray(value)) {
        out.push('[');
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out.push(',');
          if (!(i in value)) throw new CanonicalError(`${path}[${i}]`, 'a hole in an array is not allowed');
          encode(value[i], `${path}[${i}]`, out);
        }
        out.push(']');
        return;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) throw new CanonicalError(path, `${describe(value)} is not allowed; only plain objects are`);
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      out.push('{');
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        if (!isAscii(key)) throw new CanonicalError(childPath(path, key), 'a non-ASCII key is not allowed');
        if (i > 0) out.push(',');
        out.push(JSON.stringify(key), ':');
        encode(obj[key], childPath(path, key), out);
      }
      out.push('}');
      return;
    }
    default:
      throw new CanonicalError(path, `${describe(value)} is not allowed`);
  }
}

/** The canonical JSON text of `value`; throws CanonicalError naming the offending path. */
export function canonicalize(value: unknown, rootPath = ''): string {
  const out: string[] = [];
  encode(value, rootPath, out);
  return out.join('');
}

/** canonicalize() as UTF-8 bytes. */
export function canonicalBytes(value: unknown, rootPath = ''): Buffer {
  return Buffer.from(canonicalize(value, rootPath), 'utf8');
}
