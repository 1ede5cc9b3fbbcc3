/**
 * Why nvidia-smi failed, from what it printed (on stdout, usually, or stderr)
 * and its exit status (nvidia-smi(1) "RETURN VALUE"; the NVML return codes).
 * The texts are matched first: they are what operators search for, and exit
 * statuses differ between driver branches.
 */
import type { Finding } from './types.js';

export interface SmiRun {
  stdout: string;
  stderr: string;
  /** Exit status; null when the process did not start or was killed. */
  exitCode: number | null;
  /** The spawn error code (ENOENT, EACCES) when it did not start. */
  spawnError?: string | undefined;
  timedOut?: boolean | undefined;
}

interface Rule {
  code: string;
  severity: Finding['severity'];
  text: RegExp;
  exitCodes: number[];
  message: (m: RegExpExecArray | null) => string;
  hint: string;
}

/** PCI address in a "device handle" error, e.g. "GPU 0000:3B:00.0" or "GPU00000000:3B:00.0". */
const PCI_IN_HANDLE = /device handle for GPU\s*([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f])/;

const RULES: Rule[] = [
  {
    code: 'driver-mismatch',
    severity: 'critical',
    text: /Driver\/library version mismatch/i,
    exitCodes: [18],
    message: () => 'the NVIDIA kernel module and the NVML library are from different driver versions',
    hint: 'this follows a driver upgrade (often unattended) without a reboot: reboot, or stop GPU processes and reload the nvidia modules (rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia; modprobe nvidia); hold the driver packages to stop unattended upgrades',
  },
  {
    code: 'no-driver',
    severity: 'critical',
    text: /couldn't communicate with the NVIDIA driver/i,
    exitCodes: [9],
    message: () => 'nvidia-smi cannot talk to the NVIDIA kernel driver: the driver is not loaded',
    hint: 'load it with `sudo modprobe nvidia` and read `dmesg | grep -i nvidia`; after a kernel upgrade rebuild the module (dkms autoinstall) and reboot; with Secure Boot on, the module must be signed',
  },
  {
    code: 'nvml-missing',
    severity: 'critical',
    text: /couldn't find libnvidia-ml\.so/i,
    exitCodes: [12],
    message: () => 'nvidia-smi cannot find the NVML library (libnvidia-ml.so)',
    hint: 'install the driver\'s user-space libraries matching the kernel module (e.g. libnvidia-compute / nvidia-utils) and run `sudo ldconfig`; in a container, start it with the NVIDIA Container Toolkit (`--gpus all`)',
  },
  {
    code: 'gpu-lost',
    severity: 'critical',
    text: /GPU is lost|Unable to determine the device handle for GPU/i,
    exitCodes: [15],
    message: (m) => {
      const pci = m === null ? null : PCI_IN_HANDLE.exec(m.input);
      return `a GPU${pci?.[1] === undefined ? '' : ` at ${pci[1]}`} is inaccessible (fallen off the bus or hung)`;
    },
    hint: 'reboot the machine to recover the GPU; if it recurs, check the kernel log for Xid 79, reseat the card and check its power cables and the PCIe slot',
  },
  {
    code: 'no-devices',
    severity: 'critical',
    text: /No devices were found/i,
    exitCodes: [],
    message: () => 'the NVIDIA driver is loaded but reports no GPU',
    hint: 'check `lspci | grep -i nvidia`: no entry means the card is not seen on the bus (seating, power, BIOS settings); in a container, pass the GPUs with `--gpus all`; a GPU bound to vfio-pci is not visible to the driver',
  },
  {
    code: 'nvidia-permission',
    severity: 'critical',
    text: /Insufficient Permissions/i,
    exitCodes: [4],
    message: () => 'nvidia-smi has no permission to open the GPU devices',
    hint: 'the capanode user needs read/write access to /dev/nvidia* (check their mode and group, and any container device rules)',
  },
  {
    code: 'power-cables',
    severity: 'critical',
    text: /power cables? (?:are )?not (?:properly )?(?:attached|connected)/i,
    exitCodes: [8],
    message: () => 'a GPU reports its external power cables are not attached',
    hint: 'power the machine off and connect the GPU\'s auxiliary power cables',
  },
  {
    // A driver that does not know a --query-gpu field refuses the whole query
    // (telemetry asks for fields every driver from 418 on knows, so this means
    // a driver older than that or one that dropped a field).
    code: 'nvidia-smi-field-unsupported',
    severity: 'warning',
    text: /Field "([^"]{1,100})" is not a valid field to query/i,
    exitCodes: [],
    message: (m) => `this driver's nvidia-smi does not know the query field ${m?.[1] === undefined ? '' : `"${m[1]}" `}that GPU telemetry asks for`,
    hint: 'update the NVIDIA driver (telemetry needs the fields docs/PROBE.md lists); `nvidia-smi --help-query-gpu` shows which fields this driver knows',
  },
  {
    code: 'inforom-corrupted',
    severity: 'warning',
    text: /infoROM is corrupted/i,
    exitCodes: [14],
    message: () => 'a GPU reports a corrupted infoROM',
    hint: 'the GPU may still work, but ECC and page retirement records are unreliable: ask the vendor for an infoROM reflash or an RMA',
  },
];

function firstLines(s: string, max = 3): string {
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(0, max)
    .join(' / ')
    .slice(0, 400);
}

/** Findings that explain a failed nvidia-smi run (at least one). */
export function diagnoseSmiFailure(run: SmiRun, what = 'nvidia-smi'): Finding[] {
  if (run.spawnError === 'ENOENT' || run.exitCode === 127) {
    return [
      {
        code: 'nvidia-smi-missing',
        severity: 'warning',
        gpu: null,
        message: 'nvidia-smi is not installed or not on PATH, so no GPU can be used',
        hint: 'install the NVIDIA driver (it ships nvidia-smi) or add its directory to PATH for the capanode service; on a machine without an NVIDIA GPU, capanode runs CPU-only',
      },
    ];
  }
  if (run.spawnError !== undefined) {
    return [
      {
        code: 'nvidia-smi-failed',
        severity: 'critical',
        gpu: null,
        message: `${what} could not be started (${run.spawnError})`,
        hint: 'check that nvidia-smi is an executable file the capanode user may run',
      },
    ];
  }
  if (run.timedOut === true) {
    return [
      {
        code: 'nvidia-smi-timeout',
        severity: 'critical',
        gpu: null,
        message: `${what} did not answer in time`,
        hint: 'a hung nvidia-smi usually means a GPU or the driver is stuck: check the kernel log for NVRM/Xid messages (Xid 79: fallen off the bus); enable persistence mode (nvidia-persistenced) so the driver does not reinitialise on every call',
      },
    ];
  }
  const out = `${run.stdout}\n${run.stderr}`;
  const findings: Finding[] = [];
  for (const rule of RULES) {
    const m = rule.text.exec(out);
    if (m !== null) findings.push({ code: rule.code, severity: rule.severity, gpu: null, message: rule.message(m), hint: rule.hint });
  }
  if (findings.length > 0) return findings;
  // No known text (a message reworded by a newer driver, or nothing printed): the exit status decides.
  const byExit = RULES.find((r) => run.exitCode !== null && r.exitCodes.includes(run.exitCode));
  if (byExit !== undefined) {
    const said = firstLines(out);
    return [{ code: byExit.code, severity: byExit.severity, gpu: null, message: `${byExit.message(null)} (exit status ${run.exitCode ?? ''}${said === '' ? '' : `: ${said}`})`, hint: byExit.hint }];
  }
  const said = firstLines(out);
  return [
    {
      code: 'nvidia-smi-failed',
      severity: 'critical',
      gpu: null,
      message: `${what} failed${run.exitCode === null ? '' : ` with exit status ${run.exitCode}`}${said === '' ? ' and printed nothing' : `: ${said}`}`,
      hint: 'run `nvidia-smi` by hand as the capanode user to see the error; `dmesg | grep -i nvrm` shows what the driver reported',
    },
  ];
}
