/**
 * nvidia-smi's value texts: "81559 MiB", "67.03 W", "16x", "N/A",
 * "[Not Supported]", "Requested functionality has been deprecated". A value
 * that is not a number in the expected unit is unknown (null): old drivers,
 * MIG mode and WDDM all answer "N/A" for fields they cannot read.
 */

const NUMBER = /^[+-]?(?:\d+(?:\.\d+)?|\.\d+)$/;

/** The number in `text`, with an optional unit suffix from `units` (case-insensitive); null otherwise. */
export function numberIn(text: string | null | undefined, units: readonly string[] = []): number | null {
  if (text === null || text === undefined) return null;
  let t = text.trim();
  if (t === '') return null;
  const lower = t.toLowerCase();
  for (const unit of units) {
    if (lower.endsWith(unit.toLowerCase())) {
      t = t.slice(0, t.length - unit.length).trim();
      break;
    }
  }
  if (!NUMBER.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

export function intIn(text: string | null | undefined, units: readonly string[] = []): number | null {
  const n = numberIn(text, units);
  return n === null ? null : Math.round(n);
}

/** Watts text ("67.03 W", "67.03") to integer milliwatts. */
export function milliwatts(text: string | null | undefined): number | null {
  const w = numberIn(text, ['W']);
  return w === null || w < 0 ? null : Math.round(w * 1000);
}

export const MIB = ['MiB'] as const;
export const MHZ = ['MHz'] as const;
export const CELSIUS = ['C'] as const;
export const PERCENT = ['%'] as const;
export const WIDTH = ['x'] as const;

/** "Enabled"/"Active"/"Yes" → true, "Disabled"/"Not Active"/"No" → false, anything else → null. */
export function flag(text: string | null | undefined): boolean | null {
  if (text === null || text === undefined) return null;
  switch (text.trim().toLowerCase()) {
    case 'enabled':
    case 'active':
    case 'yes':
    case 'true':
      return true;
    case 'disabled':
    case 'not active':
    case 'no':
    case 'false':
      return false;
    default:
      return null;
  }
}

/** A free-text value, or null when nvidia-smi says it does not know it. */
export function known(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  const t = text.trim();
  if (t === '' || /^\[?(?:n\/a|not supported|unknown error|requested functionality has been deprecated|insufficient permissions)\]?$/i.test(t)) return null;
  return t;
}

/** A hexadecimal bit mask ("0x0000000000000004"), as nvidia-smi prints clock event reasons; null if not one. */
export function bitmask(text: string | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  const t = text.trim();
  if (!/^0x[0-9a-f]{1,16}$/i.test(t)) return null;
  const n = Number.parseInt(t.slice(2), 16);
  return Number.isSafeInteger(n) ? n : null;
}
