#include "gpu_bench.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "gpu.h"
#include "pot_cpu.h"
#include "ptx.h"

namespace capanode {

namespace {

constexpr size_t MiB = size_t{1} << 20;

double clockMhz(const unsigned long long* clk) { return clk[1] > 0 ? static_cast<double>(clk[0]) / static_cast<double>(clk[1]) * 1000.0 : 0.0; }

// Each phase is its own Job, so one phase's buffers are freed before the next allocates.
struct Phase {
  Gpu& gpu;
  Device& device;
  std::chrono::steady_clock::time_point deadline;
  double remainingMs() const { return std::max(1.0, std::chrono::duration<double, std::milli>(deadline - std::chrono::steady_clock::now()).count()); }
};

// Times `launches` calls of fn between two events.
template <typename Fn>
float timed(Job& job, int launches, Fn fn, const char* what) {
  CUevent e0 = job.event();
  CUevent e1 = job.event();
  job.record(e0);
  for (int i = 0; i < launches; ++i) fn();
  job.record(e1);
  job.wait(e1, what);
  return std::max(job.elapsedMs(e0, e1), 1e-3f);
}

void memoryBandwidth(Phase& p, bool quick, GpuBenchResult& out) {
  Job job(p.gpu, p.device, p.remainingMs());
  size_t bytes = (quick ? 256 : 1024) * MiB;
  const size_t freeBytes = job.freeMemory();
  while (bytes > 16 * MiB && 2 * bytes > freeBytes / 10 * 8) bytes /= 2;
  CUdeviceptr src = job.alloc(bytes);
  CUdeviceptr dst = job.alloc(bytes);
  unsigned long long count = bytes / 16;
  void* params[] = {&src, &dst, &count};
  const unsigned grid = static_cast<unsigned>(p.device.smCount) * 8;
  auto run = [&] { job.launch(p.device.memCopy, grid, 1, 256, 0, params, "mem_copy"); };
  timed(job, 1, run, "the memory bandwidth warm-up");
  const int iters = quick ? 10 : 40;
  const float ms = timed(job, iters, run, "the memory bandwidth run");
  out.memBwMBps = 2.0 * static_cast<double>(bytes) * iters / (ms / 1e3) / 1e6;
  out.memBytes = static_cast<double>(bytes);
}

void fp32Throughput(Phase& p, bool quick, GpuBenchResult& out) {
  Job job(p.gpu, p.device, p.remainingMs());
  // 1024 threads per SM fit every architecture from sm_70 (T4 allows no more), so the grid is one wave.
  const unsigned grid = static_cast<unsigned>(p.device.smCount) * 4;
  const unsigned block = 256;
  CUdeviceptr sink = job.alloc(static_cast<size_t>(grid) * block * 4);
  CUdeviceptr clk = job.alloc(16);
  auto* clkHost = static_cast<unsigned long long*>(job.hostAlloc(16));
  int iters = 64;
  float seed = 1.0f;
  CUdeviceptr noClock = 0;
  void* calibrate[] = {&sink, &iters, &seed, &noClock};
  auto once = [&] { job.launch(p.device.fma, grid, 1, block, 0, calibrate, "fma_fp32"); };
  timed(job, 1, once, "the FP32 warm-up");
  const float probe = timed(job, 1, once, "the FP32 calibration");
  const double targetMs = quick ? 25 : 100;
  iters = static_cast<int>(std::clamp(64.0 * targetMs / probe, 64.0, 4194304.0));
  void* params[] = {&sink, &iters, &seed, &clk};
  CU_TRY(job.api(), cuMemsetD32Async, clk, 0u, 4, job.stream());
  float best = 0;
  for (int k = 0; k < 3; ++k) {
    const float ms = timed(job, 1, [&] { job.launch(p.device.fma, grid, 1, block, 0, params, "fma_fp32"); }, "the FP32 run");
    best = k == 0 ? ms : std::min(best, ms);
  }
  CU_TRY(job.api(), cuMemcpyDtoHAsync_v2, clkHost, clk, 16, job.stream());
  job.drain("reading the clock samples");
  const double flops = static_cast<double>(grid) * block * iters * 32.0 * 8.0 * 2.0;
  out.fp32Gflops = flops / (best / 1e3) / 1e9;
  out.fp32SmClockMhz = clockMhz(clkHost);
}

void tensorThroughput(Phase& p, bool quick, GpuBenchResult& out) {
  Job job(p.gpu, p.device, p.remainingMs());
  uint32_t np = quick ? 4096 : 8192;
  const size_t freeBytes = job.freeMemory();
  while (np > 1024 && static_cast<size_t>(np) * np * 8 > freeBytes / 10 * 8) np /= 2;
  CUdeviceptr A = job.alloc(static_cast<size_t>(np) * np * 2);
  CUdeviceptr Bt = job.alloc(static_cast<size_t>(np) * np * 2);
  CUdeviceptr C = job.alloc(static_cast<size_t>(np) * np * 4);
  CUdeviceptr clk = job.alloc(16);
  auto* clkHost = static_cast<unsigned long long*>(job.hostAlloc(16));
  // The PoT operands (small integers) as data: as much switching activity, hence power, as a real run.
  const PotKeys keys{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u};
  uint32_t sA = potStream(keys, 0, 0), sB = potStream(keys, 1, 0), plain = 0, transposed = 1;
  void* genA[] = {&A, &sA, &np, &np, &plain};
  void* genB[] = {&Bt, &sB, &np, &np, &transposed};
  job.launch(p.device.gen, (np + 255) / 256, np, 256, 0, genA, "pot_gen (A)");
  job.launch(p.device.gen, (np + 255) / 256, np, 256, 0, genB, "pot_gen (B)");
  const unsigned smem = p.device.mma ? static_cast<unsigned>(kPotMmaSharedBytes) : 0;
  CUdeviceptr noClock = 0;
  void* warm[] = {&A, &Bt, &np, &C, &noClock};
  void* params[] = {&A, &Bt, &np, &C, &clk};
  const unsigned tiles = np / 128;
  const float probe = timed(job, 1, [&] { job.launch(p.device.gemmF32, tiles, tiles, 256, smem, warm, "gemm_f16_f32"); }, "the GEMM warm-up");
  const double targetMs = quick ? 100 : 500;
  const int iters = static_cast<int>(std::clamp(targetMs / probe, 2.0, 1000.0));
  CU_TRY(job.api(), cuMemsetD32Async, clk, 0u, 4, job.stream());
  const float ms = timed(job, iters, [&] { job.launch(p.device.gemmF32, tiles, tiles, 256, smem, params, "gemm_f16_f32"); }, "the GEMM run");
  CU_TRY(job.api(), cuMemcpyDtoHAsync_v2, clkHost, clk, 16, job.stream());
  job.drain("reading the clock samples");
  out.tensorGflops = 2.0 * static_cast<double>(np) * np * np * iters / (ms / 1e3) / 1e9;
  out.tensorSmClockMhz = clockMhz(clkHost);
  out.tensorKernel = p.device.mma ? "mma.sync" : "wmma";
  out.gemmN = np;
}

void hostCopies(Phase& p, bool quick, GpuBenchResult& out) {
  Job job(p.gpu, p.device, p.remainingMs());
  const size_t bytes = (quick ? 64 : 256) * MiB;
  void* host = job.hostAlloc(bytes);
  std::memset(host, 0x5a, bytes);
  CUdeviceptr dev = job.alloc(bytes);
  const CudaApi& a = job.api();
  auto h2d = [&] { CU_TRY(a, cuMemcpyHtoDAsync_v2, dev, host, bytes, job.stream()); };
  auto d2h = [&] { CU_TRY(a, cuMemcpyDtoHAsync_v2, host, dev, bytes, job.stream()); };
  timed(job, 1, h2d, "the host-to-device warm-up");
  timed(job, 1, d2h, "the device-to-host warm-up");
  const int reps = quick ? 3 : 8;
  out.h2dMBps = static_cast<double>(bytes) * reps / (timed(job, reps, h2d, "the host-to-device copies") / 1e3) / 1e6;
  out.d2hMBps = static_cast<double>(bytes) * reps / (timed(job, reps, d2h, "the device-to-host copies") / 1e3) / 1e6;
  out.copyBytes = static_cast<double>(bytes);
}

}  // namespace

GpuBenchResult gpuBench(int ordinal, bool quick, double timeoutMs) {
  Gpu& gpu = Gpu::open();
  std::unique_lock<std::mutex> lock;
  Device& d = gpu.enter(ordinal, lock);
  Phase p{gpu, d, std::chrono::steady_clock::now() + std::chrono::microseconds(static_cast<long long>(timeoutMs * 1000))};
  GpuBenchResult out;
  memoryBandwidth(p, quick, out);
  fp32Throughput(p, quick, out);
  tensorThroughput(p, quick, out);
  hostCopies(p, quick, out);
  return out;
}

}  // namespace capanode
