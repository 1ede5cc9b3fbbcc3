// The CPU's local figures for a throughput attestation made with
// device "cpu": memory bandwidth and FP32 multiply-add throughput.
#pragma once

#include <string>

namespace capanode {

struct CpuBenchResult {
  double memBwMBps = 0;
  double fp32Gflops = 0;
  std::string isa;
  unsigned threads = 0;
};

CpuBenchResult cpuBench(bool quick, unsigned threads);

}  // namespace capanode
