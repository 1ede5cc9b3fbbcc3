/**
 * Largest-remainder apportionment (Hamilton's method) over exact rational
 * quotas: each party gets the floor of its quota, and the micro-credits left
 * over go one each to the largest remainders, ties to the smaller id. The
 * amounts add up to floor(sum of quotas) exactly, and each differs from its
 * quota by less than one micro-credit.
 */

export interface Quota {
  id: string;
  /** The quota is num / den (den shared by all). */
  num: bigint;
}

export interface Apportionment {
  /** floor(sum of quotas): what the amounts add up to. */
  total: number;
  /** Per quota, in input order. */
  amounts: number[];
  /** Whether that party got one of the left-over micro-credits. */
  extra: boolean[];
}

export function largestRemainder(quotas: readonly Quota[], den: bigint): Apportionment {
  if (den <= 0n) throw new RangeError('largestRemainder: denominator must be positive');
  let sumNum = 0n;
  let sumFloor = 0n;
  const floors: bigint[] = [];
  const rems: bigint[] = [];
  for (const q of quotas) {
    if (q.num < 0n) throw new RangeError(`largestRemainder: negative quota for ${q.id}`);
    sumNum += q.num;
    const f = q.num / den;
    floors.push(f);
    rems.push(q.num - f * den);
    sumFloor += f;
  }
  const total = sumNum / den;
  let left = Number(total - sumFloor);
  const extra = quotas.map(() => false);
  if (left > 0) {
    const order = quotas.map((_, i) => i).filter((i) => (rems[i] ?? 0n) > 0n);
    order.sort((i, j) => {
      const ri = rems[i] ?? 0n;
      const rj = rems[j] ?? 0n;
      if (ri !== rj) return ri > rj ? -1 : 1;
      const a = quotas[i]?.id ?? '';
      const b = quotas[j]?.id ?? '';
      return a < b ? -1 : a > b ? 1 : 0;
    });
    for (const i of order) {
      if (left === 0) break;
      extra[i] = true;
      left--;
    }
  }
  return { total: Number(total), amounts: floors.map((f, i) => Number(f) + (extra[i] === true ? 1 : 0)), extra };
}

/** Splits an integer total in proportion to integer weights, exactly (all zero weights: nothing is split). */
export function apportion(total: number, weights: readonly { id: string; weight: bigint }[]): number[] {
  const sum = weights.reduce((s, w) => s + w.weight, 0n);
  if (sum === 0n) return weights.map(() => 0);
  return largestRemainder(
    weights.map((w) => ({ id: w.id, num: BigInt(total) * w.weight })),
    sum,
  ).amounts;
}
