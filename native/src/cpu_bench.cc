#include "cpu_bench.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "pot_cpu.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CAPANODE_X86 1
#endif

namespace capanode {

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

// Runs fn(t) on `threads` threads at once and returns the wall time in seconds.
template <typename Fn>
double together(unsigned threads, Fn fn) {
  std::vector<std::thread> pool;
  std::atomic<unsigned> ready{0};
  std::atomic<bool> go{false};
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      fn(t);
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  const auto t0 = Clock::now();
  go.store(true, std::memory_order_release);
  for (auto& th : pool) th.join();
  return seconds(t0);
}

// Multiply-adds per call of a kernel: 12 accumulators x lanes x iters.
#ifdef CAPANODE_X86
__attribute__((target("avx512f"))) float fmaAvx512(long iters, float seed) {
  __m512 acc[12];
  for (int k = 0; k < 12; ++k) acc[k] = _mm512_set1_ps(seed + static_cast<float>(k));
  const __m512 m = _mm512_set1_ps(0.9999999f), c = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < iters; ++i)
    for (int k = 0; k < 12; ++k) acc[k] = _mm512_fmadd_ps(acc[k], m, c);
  __m512 s = acc[0];
  for (int k = 1; k < 12; ++k) s = _mm512_add_ps(s, acc[k]);
  float lanes[16];
  _mm512_storeu_ps(lanes, s);
  float out = 0;
  for (float v : lanes) out += v;
  return out;
}

__attribute__((target("avx2,fma"))) float fmaAvx2(long iters, float seed) {
  __m256 acc[12];
  for (int k = 0; k < 12; ++k) acc[k] = _mm256_set1_ps(seed + static_cast<float>(k));
  const __m256 m = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < iters; ++i)
    for (int k = 0; k < 12; ++k) acc[k] = _mm256_fmadd_ps(acc[k], m, c);
  float lanes[8];
  __m256 s = acc[0];
  for (int k = 1; k < 12; ++k) s = _mm256_add_ps(s, acc[k]);
  _mm256_storeu_ps(lanes, s);
  float out = 0;
  for (float v : lanes) out += v;
  return out;
}
#endif

// Portable: 12 accumulators x 8 lanes the compiler maps onto its vector unit.
float fmaGeneric(long iters, float seed) {
  float acc[12][8];
  for (int k = 0; k < 12; ++k)
    for (int l = 0; l < 8; ++l) acc[k][l] = seed + static_cast<float>(k + l);
  for (long i = 0; i < iters; ++i)
    for (int k = 0; k < 12; ++k)
      for (int l = 0; l < 8; ++l) acc[k][l] = acc[k][l] * 0.9999999f + 1e-7f;
  float out = 0;
  for (auto& a : acc)
    for (float v : a) out += v;
  return out;
}

struct FmaKernel {
  float (*fn)(long, float);
  int lanes;
  const char* isa;
};

FmaKernel pickFma() {
#ifdef CAPANODE_X86
  if (__builtin_cpu_supports("avx512f")) return {fmaAvx512, 16, "avx512f"};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {fmaAvx2, 8, "avx2+fma"};
#endif
  return {fmaGeneric, 8, "generic"};
}

volatile float g_sink;

}  // namespace

CpuBenchResult cpuBench(bool quick, unsigned threads) {
  if (threads == 0) threads = defaultThreads();
  CpuBenchResult out;
  out.threads = threads;

  // Memory: each thread copies its slice of a buffer far larger than any cache.
  const size_t bytes = (quick ? size_t{64} : size_t{256}) << 20;
  std::unique_ptr<char[]> src(new char[bytes]), dst(new char[bytes]);
  together(threads, [&](unsigned t) {
    const size_t slice = bytes / threads, at = slice * t;
    std::memset(src.get() + at, static_cast<int>(t + 1), slice);
    std::memset(dst.get() + at, 0, slice);
  });
  const int rounds = quick ? 3 : 8;
  double best = 0;
  for (int r = 0; r < rounds; ++r) {
    const double s = together(threads, [&](unsigned t) {
      const size_t slice = bytes / threads;
      std::memcpy(dst.get() + slice * t, src.get() + slice * t, slice);
    });
    best = r == 0 ? s : std::min(best, s);
  }
  out.memBwMBps = 2.0 * static_cast<double>(bytes / threads * threads) / best / 1e6;
  g_sink = static_cast<float>(dst[bytes / 2]);

  // FP32: calibrate one thread to ~20 ms, then time every thread at once.
  const FmaKernel k = pickFma();
  out.isa = k.isa;
  long iters = 1 << 16;
  const auto c0 = Clock::now();
  g_sink = k.fn(iters, 1.0f);
  const double probe = std::max(seconds(c0), 1e-4);
  iters = std::max(1L << 16, static_cast<long>(static_cast<double>(iters) * (quick ? 0.05 : 0.25) / probe));
  double fastest = 0;
  for (int r = 0; r < 2; ++r) {
    const double s = together(threads, [&](unsigned t) { g_sink = k.fn(iters, 1.0f + static_cast<float>(t)); });
    fastest = r == 0 ? s : std::min(fastest, s);
  }
  out.fp32Gflops = 2.0 * 12.0 * k.lanes * static_cast<double>(iters) * threads / fastest / 1e9;
  return out;
}

}  // namespace capanode
