/**
 * The simulator end to end, small: deterministic for a seed, conservation
 * exact, and each strategy meeting the mechanics that should stop it.
 */
import { describe, expect, it } from 'vitest';
import { buildReport, DEFAULT_MIX, renderHtml, simulate, type SimReport } from '../../../coordinator/sim/index.js';

const small = { nodes: 240, epochs: 36, seed: 11, mix: DEFAULT_MIX } as const;
const gainOf = (r: SimReport, s: string): number => r.strategies.find((x) => x.strategy === s)?.gain ?? NaN;

describe('simulate', () => {
  const report = buildReport(simulate(small));

  it('is deterministic: the same seed gives the same report and HTML byte for byte; another seed another report', () => {
    const again = buildReport(simulate(small));
    expect(JSON.stringify(again)).toBe(JSON.stringify(report));
    expect(renderHtml(again)).toBe(renderHtml(report));
    expect(JSON.stringify(buildReport(simulate({ ...small, seed: 12 })))).not.toBe(JSON.stringify(report));
  });

  it('splits every epoch exactly: conservation error 0, and everything emitted is paid or carried', () => {
    expect(report.conservationError).toBe(0);
    expect(report.totals.paid + report.totals.carriedOut).toBeCloseTo(report.totals.emitted + report.totals.feesAccepted, 5);
    expect(report.nodeEpochs).toBeGreaterThan(small.nodes * small.epochs * 0.9);
  });

  it('no strategy earns more per unit of real contribution than honest nodes', () => {
    expect(gainOf(report, 'honest')).toBe(1);
    for (const s of report.strategies) expect(s.gain ?? 0).toBeLessThanOrEqual(1);
  });

  it('cheating on PoT or jobs loses money and is caught; splitting, spoofing and whale stake gain nothing', () => {
    for (const s of ['lazy', 'replay', 'downgrade', 'rep-fraud']) {
      expect(gainOf(report, s)).toBeLessThan(0.5);
      expect(report.strategies.find((x) => x.strategy === s)?.detectionRate).toBeGreaterThan(0.5);
    }
    expect(report.strategies.find((x) => x.strategy === 'rep-fraud')?.forfeited).toBeGreaterThan(0);
    for (const s of ['sybil', 'spoof', 'whale']) expect(Math.abs(gainOf(report, s) - 1)).toBeLessThan(0.001);
    expect(gainOf(report, 'wash')).toBeLessThan(1);
    // Offline at a round it is not challenged (it waits for the next), so only its uptime meets it: u^2 for 50-70% of the hour.
    expect(gainOf(report, 'uptime-gaming')).toBeLessThan(0.75);
    expect(gainOf(report, 'flaky')).toBeLessThan(1);
    expect(report.strategies.find((x) => x.strategy === 'honest')?.detectionRate).toBe(0);
  });

  it('one GPU behind several identities out-earns honest nodes unless challenges come in windowed rounds, over a short run or a long one', () => {
    const mix = { honest: 0.8, multiplex: 0.2 };
    expect(gainOf(buildReport(simulate({ ...small, mix, schedule: 'independent' })), 'multiplex')).toBeGreaterThan(1.5);
    expect(gainOf(buildReport(simulate({ ...small, mix, schedule: 'rounds' })), 'multiplex')).toBeGreaterThan(1.2);
    for (const epochs of [small.epochs, 168]) expect(gainOf(buildReport(simulate({ ...small, nodes: 100, epochs, mix, schedule: 'windowed' })), 'multiplex')).toBeLessThanOrEqual(1);
  });

  it('rejects bad options with a hint', () => {
    expect(() => simulate({ ...small, nodes: 0 })).toThrow(/--nodes 0/);
    expect(() => simulate({ ...small, epochs: 1.5 })).toThrow(/--epochs/);
  });
});

describe('HTML report', () => {
  const html = renderHtml(buildReport(simulate({ ...small, nodes: 60, epochs: 12 })));

  it('is one self-contained file: no scripts, no external assets, four inline SVG charts', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
    expect(html.match(/(?:src|href)=/g)).toBeNull();
    expect(html.match(/<svg /g)).toHaveLength(4);
    for (const caption of ['Gain per strategy', 'Earnings distribution', 'Cumulative net earnings']) expect(html).toContain(caption);
    expect(html).toContain('rep-fraud');
  });
});
