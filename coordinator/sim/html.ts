/**
 * The simulator's report as one self-contained HTML file: inline CSS and
 * SVG, no scripts, no external assets, deterministic for a report.
 */
import { STRATEGY_NAMES, type StrategyName } from './mix.js';
import type { SimReport } from './report.js';
import { escapeXml, label, linear, PALETTE, ticks, xy } from './svg.js';

const W = 860;
const colour = (s: StrategyName): string => PALETTE[STRATEGY_NAMES.indexOf(s) % PALETTE.length] ?? '#000';

function frame(height: number, title: string, body: string): string {
  return `<figure><figcaption>${escapeXml(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${escapeXml(title)}">${body}</svg></figure>`;
}

function xAxis(x: (v: number) => number, values: number[], y0: number, y1: number): string {
  return values
    .map((v) => `<line x1="${x(v).toFixed(2)}" y1="${y0}" x2="${x(v).toFixed(2)}" y2="${y1}" class="grid"/><text x="${x(v).toFixed(2)}" y="${y1 + 14}" class="tick" text-anchor="middle">${label(v)}</text>`)
    .join('');
}

/** Horizontal bars, one per strategy, with a line at 1 (as much as honest) and at 0. */
function gainChart(r: SimReport): string {
  const rows = r.strategies.filter((s) => s.gain !== null);
  const gains = rows.map((s) => s.gain ?? 0);
  const lo = Math.min(0, ...gains) - 0.1;
  const hi = Math.max(1.2, ...gains) + 0.1;
  const left = 130;
  const x = linear(lo, hi, left, W - 20);
  const rowH = 22;
  const h = rows.length * rowH + 50;
  const bars = rows
    .map((s, i) => {
      const g = s.gain ?? 0;
      const y = 10 + i * rowH;
      const a = x(Math.min(0, g));
      const b = x(Math.max(0, g));
      return `<text x="${left - 6}" y="${y + 15}" text-anchor="end" class="lab">${escapeXml(s.strategy)}</text><rect x="${a.toFixed(2)}" y="${y + 3}" width="${Math.max(1, b - a).toFixed(2)}" height="${rowH - 8}" fill="${colour(s.strategy)}"${g > 1 ? ' stroke="#b2182b" stroke-width="2"' : ''}/><text x="${(g >= 0 ? b + 4 : a - 4).toFixed(2)}" y="${y + 15}" class="val" text-anchor="${g >= 0 ? 'start' : 'end'}">${g.toFixed(3)}</text>`;
    })
    .join('');
  const y1 = 10 + rows.length * rowH;
  return frame(h, 'Gain per strategy: earnings per unit of real contribution, relative to honest nodes (1 = as much as honest)', `${xAxis(x, ticks(lo, hi), 10, y1)}<line x1="${x(1).toFixed(2)}" y1="4" x2="${x(1).toFixed(2)}" y2="${y1}" class="ref"/><line x1="${x(0).toFixed(2)}" y1="4" x2="${x(0).toFixed(2)}" y2="${y1}" class="zero"/>${bars}`);
}

/** One dot per operator at its relative earnings, a row per strategy. */
function distributionChart(r: SimReport): string {
  const names = r.strategies.map((s) => s.strategy);
  const values = r.operators.map((o) => o.relative).filter((v): v is number => v !== null);
  const lo = Math.max(-3, Math.min(0, ...values)) - 0.1;
  const hi = Math.min(3, Math.max(1.2, ...values)) + 0.1;
  const left = 130;
  const x = linear(lo, hi, left, W - 20);
  const rowH = 26;
  const h = names.length * rowH + 50;
  const counts = new Map<StrategyName, number>();
  const dots = r.operators
    .map((o) => {
      if (o.relative === null) return '';
      const row = names.indexOf(o.strategy);
      const k = counts.get(o.strategy) ?? 0;
      counts.set(o.strategy, k + 1);
      // Deterministic jitter so equal values stay visible.
      const jitter = (((k * 2654435761) >>> 0) % 1000) / 1000;
      const v = Math.min(hi, Math.max(lo, o.relative));
      return `<circle cx="${x(v).toFixed(2)}" cy="${(10 + row * rowH + 4 + jitter * (rowH - 8)).toFixed(2)}" r="2.5" fill="${colour(o.strategy)}" fill-opacity="0.7"/>`;
    })
    .join('');
  const labels = names.map((n, i) => `<text x="${left - 6}" y="${10 + i * rowH + 17}" text-anchor="end" class="lab">${escapeXml(n)}</text>`).join('');
  const y1 = 10 + names.length * rowH;
  return frame(h, `Earnings distribution: each operator's net earnings per unit of real contribution, relative to honest (clipped to [${lo.toFixed(1)}, ${hi.toFixed(1)}])`, `${xAxis(x, ticks(lo, hi), 10, y1)}<line x1="${x(1).toFixed(2)}" y1="4" x2="${x(1).toFixed(2)}" y2="${y1}" class="ref"/>${labels}${dots}`);
}

/** Lines over epochs, one per strategy. */
function lineChart(r: SimReport, title: string, pick: (s: SimReport['series'][number]) => (number | null)[], reference: number | null, clip?: readonly [number, number]): string {
  const all = r.series.flatMap((s) => pick(s).filter((v): v is number => v !== null));
  const lo = Math.max(clip?.[0] ?? -Infinity, Math.min(0, ...all));
  const hi = Math.min(clip?.[1] ?? Infinity, Math.max(reference ?? 0, ...all));
  const lines = r.series.map((s) => ({ strategy: s.strategy, values: pick(s).map((v) => (v === null ? null : Math.min(hi, Math.max(lo, v)))) }));
  const epochs = r.options.epochs;
  const left = 70;
  const right = W - 150;
  const top = 10;
  const bottom = 290;
  const x = linear(0, Math.max(1, epochs - 1), left, right);
  const y = linear(lo, hi === lo ? lo + 1 : hi, bottom, top);
  const yTicks = ticks(lo, hi, 6)
    .map((v) => `<line x1="${left}" y1="${y(v).toFixed(2)}" x2="${right}" y2="${y(v).toFixed(2)}" class="grid"/><text x="${left - 6}" y="${(y(v) + 4).toFixed(2)}" class="tick" text-anchor="end">${label(v)}</text>`)
    .join('');
  const xTicks = ticks(0, epochs - 1, 8)
    .filter((v) => Number.isInteger(v))
    .map((v) => `<text x="${x(v).toFixed(2)}" y="${bottom + 16}" class="tick" text-anchor="middle">${v}</text>`)
    .join('');
  const paths = lines
    .map((l) => {
      let d = '';
      let pen = 'M';
      l.values.forEach((v, i) => {
        if (v === null) {
          pen = 'M';
          return;
        }
        d += `${pen}${xy(x(i), y(v))}`;
        pen = 'L';
      });
      return d === '' ? '' : `<path d="${d}" fill="none" stroke="${colour(l.strategy)}" stroke-width="${l.strategy === 'honest' ? 3 : 1.6}"/>`;
    })
    .join('');
  const legend = lines.map((l, i) => `<rect x="${right + 14}" y="${top + i * 18}" width="12" height="12" fill="${colour(l.strategy)}"/><text x="${right + 30}" y="${top + i * 18 + 10}" class="lab">${escapeXml(l.strategy)}</text>`).join('');
  const ref = reference === null ? '' : `<line x1="${left}" y1="${y(reference).toFixed(2)}" x2="${right}" y2="${y(reference).toFixed(2)}" class="ref"/>`;
  return frame(bottom + 40, title, `${yTicks}${ref}${paths}${xTicks}<text x="${((left + right) / 2).toFixed(0)}" y="${bottom + 34}" class="tick" text-anchor="middle">epoch</text>${legend}`);
}

function table(r: SimReport): string {
  const head = ['strategy', 'operators', 'identities', 'contribution (PFLOP/s-epochs)', 'earned', 'of which job pay', 'slashed', 'forfeited', 'self-dealt fees', 'net', 'gain', 'detected', 'what it does'];
  const rows = r.strategies.map((s) =>
    [
      `<span class="sw" style="background:${colour(s.strategy)}"></span>${escapeXml(s.strategy)}`,
      s.operators,
      s.identities,
      s.contributionPflopEpochs.toFixed(2),
      s.earned.toFixed(2),
      s.jobPay.toFixed(2),
      s.slashed.toFixed(2),
      s.forfeited.toFixed(2),
      s.selfDealt.toFixed(2),
      s.net.toFixed(2),
      s.gain === null ? '-' : `<b class="${s.gain > 1 ? 'bad' : ''}">${s.gain.toFixed(3)}</b>`,
      `${(s.detectionRate * 100).toFixed(0)}%`,
      escapeXml(s.summary),
    ]
      .map((c) => `<td>${c}</td>`)
      .join(''),
  );
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.map((row) => `<tr>${row}</tr>`).join('')}</tbody></table>`;
}

export function renderHtml(r: SimReport): string {
  const o = r.options;
  const mix = Object.entries(o.mix)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const params = Object.entries(r.params)
    .map(([k, v]) => `<tr><td>${escapeXml(k)}</td><td>${String(v)}</td></tr>`)
    .join('');
  const verdict =
    r.maxAdversarialGain === null
      ? 'No adversarial strategy in the mix.'
      : r.maxAdversarialGain <= 1
        ? `No strategy earns more per unit of real contribution than honest nodes (largest gain ${r.maxAdversarialGain.toFixed(3)}).`
        : `At least one strategy out-earns honest nodes (largest gain ${r.maxAdversarialGain.toFixed(3)}).`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>capanode incentive simulation, seed ${o.seed}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;font-size:12.5px}td,th{border-bottom:1px solid #ddd;padding:4px 7px;text-align:right;vertical-align:top}
td:first-child,th:first-child,td:last-child{text-align:left}th{background:#f4f4f4}
.sw{display:inline-block;width:10px;height:10px;margin-right:6px}
.bad{color:#b2182b}.ok{color:#1b7837}
figure{margin:18px 0}figcaption{font-weight:600;margin-bottom:6px}
svg .grid{stroke:#eee}svg .tick{font-size:11px;fill:#666}svg .lab{font-size:12px;fill:#222}svg .val{font-size:11px;fill:#222}
svg .ref{stroke:#b2182b;stroke-dasharray:4 3}svg .zero{stroke:#999}
code{background:#f4f4f4;padding:1px 4px}
</style></head><body>
<h1>capanode incentive simulation</h1>
<p><code>simulate --nodes ${o.nodes} --epochs ${o.epochs} --seed ${o.seed} --mix ${escapeXml(mix)} --challenges ${escapeXml(o.schedule)}</code></p>
<p>${r.identities} identities, ${r.nodeEpochs} node-epochs paid by the real reward engine. Emitted ${r.totals.emitted.toFixed(2)} credits; job fees accepted ${r.totals.feesAccepted.toFixed(2)}; paid ${r.totals.paid.toFixed(2)}; burned ${r.totals.burned.toFixed(2)}; carried out ${r.totals.carriedOut.toFixed(2)}.
Conservation error: <b class="${r.conservationError === 0 ? 'ok' : 'bad'}">${r.conservationError} micro-credits</b>.</p>
<p><b class="${r.maxAdversarialGain !== null && r.maxAdversarialGain > 1 ? 'bad' : 'ok'}">${escapeXml(verdict)}</b>
The gain compares net earnings (paid, less pay for jobs really run, slashes, forfeits and self-dealt fees) per PFLOP/s-epoch of GPU time that really served the network.</p>
${table(r)}
<h2>Gain per strategy</h2>
${gainChart(r)}
<h2>Earnings distribution</h2>
${distributionChart(r)}
<h2>Cumulative earnings over epochs</h2>
${lineChart(r, 'Cumulative net earnings per PFLOP/s of each strategy\'s real hardware (credits)', (s) => s.cumulativeNetPerPflop, null)}
${lineChart(r, 'Cumulative earnings per unit of real contribution, relative to honest (clipped to [-2, 2])', (s) => s.cumulativeGain, 1, [-2, 2])}
<h2>Parameters</h2>
<table><tbody>${params}</tbody></table>
</body></html>
`;
}
