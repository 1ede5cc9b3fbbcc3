/**
 * `capanode probe [--json]`: the GPUs, the host and what is wrong with them.
 * Exits 0 whenever it could look, GPU or not: a machine without a GPU is a
 * finding (with the reason), not a failure of the command.
 */
import type { Command } from 'commander';
import { action, printJson } from '../../common/cli.js';
import { probeReport, type Finding, type GpuInfo, type HostFacts, type ProbeReport } from '../probe/index.js';
import { pathsFrom, withCommonOptions, type CommonOptions } from './options.js';

const dash = '-';
const or = (v: string | number | null, suffix = ''): string => (v === null ? dash : `${v}${suffix}`);

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd()).join('\n');
}

function gpuRow(g: GpuInfo): string[] {
  const watts = (mw: number | null): string => (mw === null ? dash : String(Math.round(mw / 1000)));
  const power = g.power.drawMw === null && g.power.limitMw === null ? dash : `${watts(g.power.drawMw)} / ${watts(g.power.limitMw)} W`;
  const link = g.pcie.genCurrent === null && g.pcie.widthCurrent === null ? dash : `gen${or(g.pcie.genCurrent)}/${or(g.pcie.genMax)} x${or(g.pcie.widthCurrent)}/${or(g.pcie.widthMax)}`;
  const mig = g.mig.current === true ? `on (${g.mig.devices.length})` : g.mig.current === false ? 'off' : dash;
  const ecc = g.ecc.current === true ? 'on' : g.ecc.current === false ? 'off' : dash;
  return [String(g.index), g.name, g.uuid, or(g.memoryTotalMiB, ' MiB'), or(g.utilization.gpu, '%'), or(g.temperature.gpuC, ' C'), power, link, ecc, mig];
}

const gib = (mib: number | null): string => (mib === null ? dash : `${(mib / 1024).toFixed(1)} GiB`);

function hostLines(h: HostFacts): string {
  const days = Math.floor(h.uptimeS / 86_400);
  const hours = Math.floor((h.uptimeS % 86_400) / 3_600);
  const load = [h.load.load1Milli, h.load.load5Milli, h.load.load15Milli].map((m) => (m / 1000).toFixed(2)).join(' ');
  const cores = h.cpu.cores === null ? '' : ` (${h.cpu.cores} cores${h.cpu.physicalCores === null ? '' : `, ${h.cpu.physicalCores} physical`})`;
  const virt = h.virtualization.virtual === null ? 'unknown' : h.virtualization.virtual ? `yes${h.virtualization.host === null ? '' : ` (${h.virtualization.host})`}` : 'no';
  return table([
    ['host', h.hostname],
    ['cpu', `${h.cpu.model ?? 'unknown'}${cores}`],
    ['memory', `${gib(h.memory.totalMiB)} total, ${gib(h.memory.availableMiB)} available`],
    ['disk', `${gib(h.disk.freeMiB)} free of ${gib(h.disk.totalMiB)} for ${h.disk.path}`],
    ['os', `${[h.os.distro, h.os.release].filter((x) => x !== null).join(' ') || h.os.platform}, kernel ${h.os.kernel ?? dash}, ${h.os.arch}`],
    ['virtual', virt],
    ['uptime', `${days} d ${hours} h, load ${load}`],
  ]);
}

function findingLines(findings: Finding[]): string {
  if (findings.length === 0) return '  none';
  return findings.map((f) => `  [${f.severity}] ${f.code}: ${f.message}\n      hint: ${f.hint}`).join('\n');
}

export function renderProbeReport(r: ProbeReport): string {
  const versions = `driver ${r.driverVersion ?? dash}, CUDA ${r.cudaVersion ?? dash}`;
  const gpus =
    r.gpus.length === 0
      ? `GPUs: none. ${r.noGpuReason ?? ''}`.trimEnd()
      : `GPUs (${r.gpus.length}; ${versions})\n${table([['#', 'NAME', 'UUID', 'MEMORY', 'UTIL', 'TEMP', 'POWER/LIMIT', 'PCIE NOW/MAX', 'ECC', 'MIG'], ...r.gpus.map(gpuRow)])}`;
  const log =
    r.kernelLog.source === null
      ? 'kernel log: not readable, XID errors not checked'
      : `kernel log: read from ${r.kernelLog.source}, ${r.kernelLog.xidEvents} XID event${r.kernelLog.xidEvents === 1 ? '' : 's'}`;
  return `${gpus}\n\nHost\n${hostLines(r.host)}\n\nFindings (${log})\n${findingLines(r.findings)}\n`;
}

export function registerProbeCommands(program: Command): void {
  withCommonOptions(
    program
      .command('probe')
      .description('list GPUs (nvidia-smi), host facts and health findings; exits 0 with the reason when there is no GPU')
      .option('--json', 'print one JSON document (schema in docs/PROBE.md)'),
  ).action(
    action(async (opts: CommonOptions) => {
      const report = await probeReport(pathsFrom(opts).dataDir);
      if (opts.json === true) printJson(report);
      else process.stdout.write(renderProbeReport(report));
      // node-nvidia-smi gives no handle on a hung nvidia-smi to kill; the
      // report is out, so do not wait for that child to end by itself.
      if (report.findings.some((f) => f.code === 'nvidia-smi-timeout')) process.exit(0);
    }),
  );
}
