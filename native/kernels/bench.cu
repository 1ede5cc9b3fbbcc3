// Device memory bandwidth and FP32 FMA throughput (any GPU from sm_70).
#include "common.cuh"

// Vectorised streaming copy: 16-byte loads and stores, four in flight per
// thread, bypassing L1 and marked evict-first in L2 so the figure is DRAM's.
// Traffic = bytes read + bytes written = 2 * 16 * count.
extern "C" __global__ void __launch_bounds__(256) mem_copy(const uint4* __restrict__ src, uint4* __restrict__ dst, unsigned long long count) {
  const unsigned long long stride = static_cast<unsigned long long>(gridDim.x) * blockDim.x;
  unsigned long long i = static_cast<unsigned long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  for (; i + 3 * stride < count; i += 4 * stride) {
    const uint4 a = __ldcs(src + i);
    const uint4 b = __ldcs(src + i + stride);
    const uint4 c = __ldcs(src + i + 2 * stride);
    const uint4 d = __ldcs(src + i + 3 * stride);
    __stcs(dst + i, a);
    __stcs(dst + i + stride, b);
    __stcs(dst + i + 2 * stride, c);
    __stcs(dst + i + 3 * stride, d);
  }
  for (; i < count; i += stride) __stcs(dst + i, __ldcs(src + i));
}

// FP32 FMA throughput: eight independent dependency chains per thread hide
// the FMA latency. FLOPs = 2 * 8 * 32 * iters per thread. The result is
// stored only if it hits a value it never reaches, so the work cannot be
// dropped by the compiler while nothing is written in practice.
extern "C" __global__ void __launch_bounds__(256) fma_fp32(float* out, int iters, float seed, unsigned long long* clk) {
  const bool sampler = clk != nullptr && blockIdx.x == 0 && threadIdx.x == 0;
  ClockSample clock{};
  if (sampler) clock.start();
  const float m = 0.9999999f;
  const float c = 1e-7f;
  float v[8];
#pragma unroll
  for (int k = 0; k < 8; ++k) v[k] = seed + static_cast<float>(threadIdx.x + k);
  for (int it = 0; it < iters; ++it) {
#pragma unroll
    for (int u = 0; u < 32; ++u)
#pragma unroll
      for (int k = 0; k < 8; ++k) v[k] = fmaf(v[k], m, c);
  }
  float s = 0.f;
#pragma unroll
  for (int k = 0; k < 8; ++k) s += v[k];
  if (s == -1.0f) out[blockIdx.x * blockDim.x + threadIdx.x] = s;
  if (sampler) clock.stop(clk);
}
