/** Exact integer arithmetic for money: no float ever rounds a credit. */

/**
 * floor(a * b / c) for non-negative safe integers, exactly. Uses doubles
 * when a * b stays below 2^53 (a float quotient of two exact integers below
 * 2^53 is never rounded across an integer boundary) and BigInt otherwise.
 */
export function mulDivFloor(a: number, b: number, c: number): number {
  if (c <= 0) throw new RangeError('mulDivFloor: divisor must be positive');
  const product = a * b;
  if (product <= Number.MAX_SAFE_INTEGER) return Math.floor(product / c);
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

/** ceil(a * b / c) for non-negative safe integers, exactly. */
export function mulDivCeil(a: number, b: number, c: number): number {
  if (c <= 0) throw new RangeError('mulDivCeil: divisor must be positive');
  return Number((BigInt(a) * BigInt(b) + BigInt(c) - 1n) / BigInt(c));
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** num/den as a decimal string cut (not rounded) to `digits` places: "12.345678". For explanations only. */
export function decimal(num: bigint, den: bigint, digits = 6): string {
  if (den <= 0n) throw new RangeError('decimal: denominator must be positive');
  const negative = num < 0n;
  const n = negative ? -num : num;
  const whole = n / den;
  if (digits === 0) return `${negative ? '-' : ''}${whole}`;
  const scale = 10n ** BigInt(digits);
  const frac = ((n % den) * scale) / den;
  return `${negative ? '-' : ''}${whole}.${frac.toString().padStart(digits, '0')}`;
}

/** Median of integers; for an even count the lower middle one (the conservative choice). */
export function lowerMedian(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}
