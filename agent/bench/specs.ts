/**
 * Vendor datasheet figures for the GPUs a node is likely to run, so `capanode
 * bench` can say how close a machine comes to what it should do. Tensor
 * figures are dense (no sparsity) FP16 with FP32 accumulation, what the PoT
 * GEMM runs: GeForce cards do that at half their FP16-accumulate rate.
 * Memory bandwidth is the vendor's GB/s (10^9 bytes/s) expressed in MB/s.
 */
export interface GpuSpec {
  /** Model as the table names it: "H100 SXM", "A100 80GB PCIe"... */
  model: string;
  memBwMBps: number;
  fp32Gflops: number;
  tensorGflops: number;
}

interface SpecRow extends GpuSpec {
  /** Tested against the driver's device name, lowercased. */
  match: RegExp;
}

// Most specific first: "h100 nvl" and "h100 pcie" before any other "h100".
const SPECS: readonly SpecRow[] = [
  { match: /\bh200 nvl\b/, model: 'H200 NVL', memBwMBps: 4_800_000, fp32Gflops: 60_000, tensorGflops: 835_500 },
  { match: /\bh200\b/, model: 'H200 SXM', memBwMBps: 4_800_000, fp32Gflops: 67_000, tensorGflops: 989_400 },
  { match: /\bh100 nvl\b/, model: 'H100 NVL', memBwMBps: 3_900_000, fp32Gflops: 60_000, tensorGflops: 835_500 },
  { match: /\bh100\b.*\bpcie\b/, model: 'H100 PCIe', memBwMBps: 2_000_000, fp32Gflops: 51_200, tensorGflops: 756_500 },
  { match: /\bh100\b/, model: 'H100 SXM', memBwMBps: 3_350_000, fp32Gflops: 67_000, tensorGflops: 989_400 },
  { match: /\ba100\b.*\b80gb\b.*\bpcie\b|\ba100\b.*\bpcie\b.*\b80gb\b/, model: 'A100 80GB PCIe', memBwMBps: 1_935_000, fp32Gflops: 19_500, tensorGflops: 312_000 },
  { match: /\ba100\b.*\b80gb\b/, model: 'A100 80GB SXM', memBwMBps: 2_039_000, fp32Gflops: 19_500, tensorGflops: 312_000 },
  { match: /\ba100\b/, model: 'A100 40GB', memBwMBps: 1_555_000, fp32Gflops: 19_500, tensorGflops: 312_000 },
  { match: /\bl40s\b/, model: 'L40S', memBwMBps: 864_000, fp32Gflops: 91_600, tensorGflops: 362_050 },
  { match: /\bl40\b/, model: 'L40', memBwMBps: 864_000, fp32Gflops: 90_500, tensorGflops: 181_050 },
  { match: /\bl4\b/, model: 'L4', memBwMBps: 300_000, fp32Gflops: 30_300, tensorGflops: 121_000 },
  { match: /\ba10\b/, model: 'A10', memBwMBps: 600_000, fp32Gflops: 31_200, tensorGflops: 125_000 },
  { match: /\bt4\b/, model: 'T4', memBwMBps: 320_000, fp32Gflops: 8_100, tensorGflops: 65_000 },
  { match: /\bv100s\b/, model: 'V100S PCIe', memBwMBps: 1_134_000, fp32Gflops: 16_400, tensorGflops: 130_000 },
  { match: /\bv100\b.*\bsxm/, model: 'V100 SXM2', memBwMBps: 900_000, fp32Gflops: 15_700, tensorGflops: 125_000 },
  { match: /\bv100\b/, model: 'V100 PCIe', memBwMBps: 900_000, fp32Gflops: 14_000, tensorGflops: 112_000 },
  { match: /\brtx 4090\b/, model: 'GeForce RTX 4090', memBwMBps: 1_008_000, fp32Gflops: 82_600, tensorGflops: 165_200 },
  { match: /\brtx 3090 ti\b/, model: 'GeForce RTX 3090 Ti', memBwMBps: 1_008_000, fp32Gflops: 40_000, tensorGflops: 80_000 },
  { match: /\brtx 3090\b/, model: 'GeForce RTX 3090', memBwMBps: 936_000, fp32Gflops: 35_600, tensorGflops: 71_000 },
];

/** The spec of a GPU from its driver name ("NVIDIA H100 80GB HBM3"), or undefined for a model not in the table. */
export function specFor(deviceName: string): GpuSpec | undefined {
  const name = deviceName.toLowerCase();
  const row = SPECS.find((s) => s.match.test(name));
  return row === undefined ? undefined : { model: row.model, memBwMBps: row.memBwMBps, fp32Gflops: row.fp32Gflops, tensorGflops: row.tensorGflops };
}

/** measured / spec as a percentage with one decimal. */
export function percentOf(measured: number | null, spec: number): number | null {
  return measured === null ? null : Math.round((measured / spec) * 1000) / 10;
}
