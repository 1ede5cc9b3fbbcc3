/**
 * The GPU inventory: `nvidia-smi -q -x` through node-nvidia-smi, normalised
 * by xml.ts. It never throws: no nvidia-smi, no driver, no devices, a hang or
 * unreadable output become findings next to an empty GPU list, so the daemon
 * keeps running CPU-only and tells the operator why.
 */
import { execFile } from 'node:child_process';
import nvidiaSmi from 'node-nvidia-smi';
import { parseStringPromise } from 'xml2js';
import { isCapanodeError } from '../../common/errors.js';
import { diagnoseSmiFailure, type SmiRun } from './diagnose.js';
import type { Finding, Inventory, InventoryResult } from './types.js';
import { parseSmiLog } from './xml.js';

export interface InventoryOptions {
  /** How long nvidia-smi may take; a GPU that is falling off the bus can hang it. Default 30 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_DIAGNOSTIC_OUTPUT = 64 * 1024 * 1024;

type LibraryResult = { ok: true; data: unknown } | { ok: false; error: unknown };

/**
 * node-nvidia-smi gives no handle on its child, so a hung nvidia-smi cannot be
 * killed. Callers share the call in flight: however often the daemon probes,
 * at most one hung nvidia-smi exists until it ends by itself.
 */
let inFlight: Promise<LibraryResult> | null = null;

function callLibrary(): Promise<LibraryResult> {
  inFlight ??= new Promise<LibraryResult>((resolve) => {
    try {
      nvidiaSmi((err, data) => resolve(err === null || err === undefined ? { ok: true, data } : { ok: false, error: err }));
    } catch (error) {
      resolve({ ok: false, error });
    }
  }).finally(() => {
    inFlight = null;
  });
  return inFlight;
}

/**
 * Runs nvidia-smi ourselves to learn why it failed. node-nvidia-smi drops
 * stdout on a non-zero exit, and stdout is where nvidia-smi prints "couldn't
 * communicate with the NVIDIA driver" and its other errors; the exit status
 * and spawn errors are needed too.
 */
export function runSmi(args: string[], timeoutMs: number): Promise<SmiRun> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_DIAGNOSTIC_OUTPUT, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err === null) {
        resolve({ stdout, stderr, exitCode: 0 });
        return;
      }
      const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: NodeJS.Signals | null };
      if (typeof e.code === 'string' && e.code !== 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
        resolve({ stdout, stderr, exitCode: null, spawnError: e.code });
        return;
      }
      resolve({ stdout, stderr, exitCode: typeof e.code === 'number' ? e.code : null, timedOut: e.killed === true && e.signal === 'SIGKILL' });
    });
  });
}

function describe(error: unknown): string {
  if (typeof error === 'string') return error.trim();
  if (error instanceof Error) return error.message.trim();
  return String(error);
}

function outputInvalid(message: string): Finding {
  return {
    code: 'nvidia-smi-output-invalid',
    severity: 'critical',
    gpu: null,
    message,
    hint: 'run `nvidia-smi -q -x` by hand: output that is cut short or is not XML points at a broken driver install or a failing GPU',
  };
}

const EMPTY: Inventory = { gpus: [], driverVersion: null, cudaVersion: null, attachedGpus: null };

/**
 * node-nvidia-smi failed: run nvidia-smi ourselves. A failing run is
 * diagnosed from its text and exit code. A run that succeeded means what the
 * library refused was a warning on stderr (it rejects any) or output over its
 * 1 MiB buffer (a large multi-GPU box): then the inventory is read from our
 * own run, parsed as the library would, and the warnings become findings.
 */
async function explainFailure(error: unknown, timeoutMs: number): Promise<InventoryResult> {
  const run = await runSmi(['-q', '-x'], timeoutMs);
  if (run.exitCode !== 0 || run.spawnError !== undefined || run.timedOut === true) return { ...EMPTY, findings: diagnoseSmiFailure(run, 'nvidia-smi -q -x') };
  const warnings = run.stderr.trim();
  const explained = warnings === '' ? [] : diagnoseSmiFailure({ ...run, stdout: '', exitCode: null }).filter((f) => f.code !== 'nvidia-smi-failed');
  const warned: Finding[] =
    warnings !== '' && explained.length === 0
      ? [{ code: 'nvidia-smi-warning', severity: 'warning', gpu: null, message: `nvidia-smi -q -x printed a warning: ${warnings.slice(0, 300)}`, hint: 'run `nvidia-smi -q` by hand and read the warning; it often names a GPU that needs attention' }]
      : [];
  try {
    const inv = parseSmiLog(await parseStringPromise(run.stdout, { explicitArray: false, trim: true }));
    return { ...inv, findings: [...explained, ...warned, ...countFindings(inv)] };
  } catch (e) {
    const why = isCapanodeError(e) ? e.message : describe(e) || describe(error);
    return { ...EMPTY, findings: [...explained, outputInvalid(`nvidia-smi -q -x printed output that could not be read as an inventory: ${why.slice(0, 300)}`)] };
  }
}

function countFindings(inv: Inventory): Finding[] {
  if (inv.gpus.length === 0) {
    return [
      {
        code: 'no-devices',
        severity: 'critical',
        gpu: null,
        message: 'the NVIDIA driver is loaded but nvidia-smi lists no GPU',
        hint: 'check `lspci | grep -i nvidia`: no entry means the card is not seen on the bus; in a container, pass the GPUs with `--gpus all`',
      },
    ];
  }
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const g of inv.gpus) {
    if (seen.has(g.uuid)) {
      out.push({
        code: 'gpu-uuid-duplicate',
        severity: 'warning',
        gpu: g.uuid,
        message: `two GPUs report the UUID ${g.uuid}; telemetry and attestations cannot tell them apart`,
        hint: 'UUIDs are burnt into each GPU and unique: check `nvidia-smi -L`; a virtualised or spoofed GPU can repeat one',
      });
    }
    seen.add(g.uuid);
  }
  if (inv.attachedGpus !== null && inv.attachedGpus > inv.gpus.length) {
    out.push(
      {
        code: 'gpu-count-mismatch',
        severity: 'warning',
        gpu: null,
        message: `nvidia-smi counts ${inv.attachedGpus} attached GPUs but describes ${inv.gpus.length}`,
      hint: 'a GPU the driver sees could not be queried: run `nvidia-smi -L` and check the kernel log for Xid errors',
    });
  }
  return out;
}

export async function probeInventory(options: InventoryOptions = {}): Promise<InventoryResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const result = await Promise.race([callLibrary(), timeout]);
  clearTimeout(timer);
  if (result === 'timeout') return { ...EMPTY, findings: diagnoseSmiFailure({ stdout: '', stderr: '', exitCode: null, timedOut: true }, 'nvidia-smi -q -x') };
  if (!result.ok) return explainFailure(result.error, timeoutMs);
  try {
    const inv = parseSmiLog(result.data);
    return { ...inv, findings: countFindings(inv) };
  } catch (e) {
    if (isCapanodeError(e)) return { ...EMPTY, findings: [outputInvalid(e.message)] };
    throw e;
  }
}
