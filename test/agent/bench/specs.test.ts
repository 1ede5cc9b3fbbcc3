import { describe, expect, it } from 'vitest';
import { percentOf, specFor } from '../../../agent/bench/specs.js';

describe('GPU spec table', () => {
  // Names as the driver (and nvidia-smi) report them.
  it.each([
    ['NVIDIA H100 80GB HBM3', 'H100 SXM', 3_350_000, 989_400],
    ['NVIDIA H100 PCIe', 'H100 PCIe', 2_000_000, 756_500],
    ['NVIDIA H100 NVL', 'H100 NVL', 3_900_000, 835_500],
    ['NVIDIA H200', 'H200 SXM', 4_800_000, 989_400],
    ['NVIDIA A100-SXM4-40GB', 'A100 40GB', 1_555_000, 312_000],
    ['NVIDIA A100-PCIE-40GB', 'A100 40GB', 1_555_000, 312_000],
    ['NVIDIA A100-SXM4-80GB', 'A100 80GB SXM', 2_039_000, 312_000],
    ['NVIDIA A100 80GB PCIe', 'A100 80GB PCIe', 1_935_000, 312_000],
    ['NVIDIA L4', 'L4', 300_000, 121_000],
    ['NVIDIA L40S', 'L40S', 864_000, 362_050],
    ['NVIDIA L40', 'L40', 864_000, 181_050],
    ['NVIDIA A10', 'A10', 600_000, 125_000],
    ['Tesla T4', 'T4', 320_000, 65_000],
    ['Tesla V100-SXM2-16GB', 'V100 SXM2', 900_000, 125_000],
    ['Tesla V100-PCIE-32GB', 'V100 PCIe', 900_000, 112_000],
    ['NVIDIA GeForce RTX 4090', 'GeForce RTX 4090', 1_008_000, 165_200],
    ['NVIDIA GeForce RTX 3090', 'GeForce RTX 3090', 936_000, 71_000],
  ])('%s is the %s', (name, model, memBwMBps, tensorGflops) => {
    expect(specFor(name)).toMatchObject({ model, memBwMBps, tensorGflops });
  });

  it.each(['NVIDIA A10G', 'NVIDIA GH200 480GB', 'NVIDIA GeForce RTX 3060', 'NVIDIA GeForce RTX 4080 SUPER', 'Tesla P100-PCIE-16GB', 'Graphics Device'])(
    'has no spec for %s rather than a wrong one',
    (name) => {
      expect(specFor(name)).toBeUndefined();
    },
  );

  it('gives the share reached with one decimal', () => {
    expect(percentOf(2_850_000, 3_350_000)).toBe(85.1);
    expect(percentOf(null, 1)).toBeNull();
  });
});
