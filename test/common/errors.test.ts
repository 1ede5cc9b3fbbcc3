import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CapanodeError, describeError, ERROR_CODES } from '../../common/errors.js';

describe('error registry', () => {
  const doc = readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8');

  it('documents every code in docs/ERRORS.md', () => {
    const missing = Object.keys(ERROR_CODES).filter((code) => !doc.includes(`| \`${code}\` |`));
    expect(missing).toEqual([]);
  });

  it('documents no code that does not exist', () => {
    const documented = [...doc.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]);
    expect(documented.filter((c) => c !== undefined && !Object.hasOwn(ERROR_CODES, c))).toEqual([]);
  });

  it('serialises code, message, hint and details, and describes errors for people', () => {
    const e = new CapanodeError('journal-full', 'disk full', { hint: 'free some space', details: { free: 0 } });
    expect(e.toJSON()).toEqual({ code: 'journal-full', message: 'disk full', hint: 'free some space', details: { free: 0 } });
    expect(describeError(e)).toBe('journal-full: disk full\n  hint: free some space');
    expect(describeError(new Error('plain'))).toBe('plain');
  });
});
