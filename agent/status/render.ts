import type { StatusDocument } from './document.js';

function ago(ms: number | null, now: number): string {
  if (ms === null) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

function credits(micro: number | null): string {
  if (micro === null) return '-';
  return `${(micro / 1e6).toFixed(6)} credits`;
}

function n(v: number | null, unit: string): string {
  return v === null ? '-' : `${v}${unit}`;
}

/** The human-readable `capanode status`: answers "is it working, and what have I earned?" at a glance. */
export function renderStatus(doc: StatusDocument, now = Date.now()): string {
  const out: string[] = [];
  const running = doc.source === 'daemon';
  out.push(`capanode ${doc.node.version}  node ${doc.node.id}`);
  out.push(running ? `daemon     running (pid ${doc.node.pid ?? '?'}, up ${n(doc.node.uptimeS, 's')})` : 'daemon     NOT RUNNING (figures below are from the journal)');
  const link = doc.link;
  const linkLine = `${link.state}${link.coordinator === null ? '' : ` to ${link.coordinator}`}`;
  out.push(`link       ${linkLine}; last ack ${ago(link.lastAckAt, now)}${link.lastAckSeq === null ? '' : ` (seq ${link.lastAckSeq})`}${link.rttMs === null ? '' : `, rtt ${link.rttMs} ms`}`);
  if (link.lastError !== null) out.push(`           last error: ${link.lastError}`);
  const j = doc.journal;
  out.push(`journal    head ${j.headSeq ?? '-'}, acked ${j.watermark}, backlog ${j.backlog}${j.rejected > 0 ? `, REJECTED ${j.rejected}` : ''}`);
  if (j.error !== null) out.push(`           ERROR: ${j.error}`);
  out.push('');
  if (doc.gpus.length === 0) out.push('GPUs       none');
  for (const g of doc.gpus) {
    out.push(`GPU ${g.index ?? '?'}      ${g.name} ${g.uuid}`);
    out.push(`           util ${n(g.util, '%')}  mem ${n(g.memUsedMiB, '')}/${n(g.memTotalMiB, ' MiB')}  ${n(g.tempC, '°C')}  ${g.powerMw === null ? '-' : `${Math.round(g.powerMw / 1000)} W`}  sm ${n(g.smClockMhz, ' MHz')}`);
  }
  for (const f of doc.findings) out.push(`${f.severity.toUpperCase().padEnd(10)} ${f.code}${f.gpu === null ? '' : ` (${f.gpu})`}: ${f.message}\n           -> ${f.hint}`);
  out.push('');
  if (doc.bench !== null) {
    const b = doc.bench;
    out.push(`benchmark  ${ago(b.at, now)} on ${b.device}: mem ${n(b.memBwMBps, ' MB/s')}, fp32 ${n(b.fp32Gflops, ' GFLOP/s')}, tensor ${n(b.tensorGflops, ' GFLOP/s')}`);
  } else out.push('benchmark  not run yet');
  if (doc.pot !== null) out.push(`PoT        ${doc.pot.ok ? 'passed' : 'FAILED'} ${ago(doc.pot.at, now)} on ${doc.pot.device}: ${doc.pot.gflops} GFLOP/s verified${doc.pot.reason === null ? '' : ` (${doc.pot.reason})`}`);
  else out.push('PoT        no verdict yet');
  const e = doc.earnings;
  out.push('');
  out.push(`earnings   this epoch ~${credits(e.epochEstimate)}; vested ${credits(e.vested)}, unvested ${credits(e.unvested)}, claimed ${credits(e.claimed)}, claimable ${credits(e.claimable)}`);
  out.push(`           reputation ${e.reputation === null ? '-' : e.reputation.toFixed(3)}, stake ${credits(e.stake)}${e.updatedAt === null ? '' : `, as of ${ago(e.updatedAt, now)}`}`);
  for (const p of e.penalties) out.push(`PENALTY    epoch ${p.epoch}: ${p.kind} ${credits(p.amount)} (${p.reason})`);
  for (const job of doc.jobs) out.push(`job        ${job.job} ${job.workload} ${job.state} on ${job.device} since ${ago(job.startedAt, now)}`);
  return `${out.join('\n')}\n`;
}
