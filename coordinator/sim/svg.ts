/** Small helpers for the report's inline SVG charts: scales, ticks, escaping. No dependencies, no scripts. */

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** Maps [d0, d1] onto [r0, r1]. */
export function linear(d0: number, d1: number, r0: number, r1: number): (x: number) => number {
  const span = d1 - d0 === 0 ? 1 : d1 - d0;
  return (x) => r0 + ((x - d0) / span) * (r1 - r0);
}

/** About `count` round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 6): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].map((f) => f * mag).find((s) => span / s <= count) ?? 10 * mag);
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

/** A number for an axis label: few digits, no float noise. */
export function label(x: number): string {
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= 1e6) return `${+(x / 1e6).toPrecision(3)}M`;
  if (abs >= 1e3) return `${+(x / 1e3).toPrecision(3)}k`;
  return `${+x.toPrecision(3)}`;
}

/** Coordinates with two decimals: short, stable output. */
export function xy(x: number, y: number): string {
  return `${x.toFixed(2)},${y.toFixed(2)}`;
}

/** Twelve colours that stay apart for the strategies, honest first. */
export const PALETTE = ['#1b7837', '#7fbf7b', '#2166ac', '#67a9cf', '#b2182b', '#ef8a62', '#762a83', '#af8dc3', '#e08214', '#8c510a', '#01665e', '#4d4d4d'];
