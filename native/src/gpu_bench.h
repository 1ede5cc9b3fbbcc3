// The four local figures of a throughput attestation (DESIGN §4 body.local),
// each timed with CUDA events, and the SM clock seen while they ran.
#pragma once

#include <string>

namespace capanode {

struct GpuBenchResult {
  /** Device memory bandwidth, bytes read plus written per second, in MB/s. */
  double memBwMBps = 0;
  double fp32Gflops = 0;
  /** FP16 tensor-core GEMM with FP32 accumulation. */
  double tensorGflops = 0;
  /** Pinned host-to-device and device-to-host copies, MB/s. */
  double h2dMBps = 0;
  double d2hMBps = 0;
  /** SM clock observed during the FMA and the GEMM runs (0 when the driver gave no samples). */
  double fp32SmClockMhz = 0;
  double tensorSmClockMhz = 0;
  /** "mma.sync" or "wmma". */
  std::string tensorKernel;
  unsigned gemmN = 0;
  double memBytes = 0;
  double copyBytes = 0;
};

/** Runs every benchmark on GPU `ordinal`; `quick` uses smaller sizes and fewer repetitions. */
GpuBenchResult gpuBench(int ordinal, bool quick, double timeoutMs);

}  // namespace capanode
