// Shared by every kernel module. Compiled only by `npm run build:ptx` (nvcc);
// the addon loads the committed PTX, never this source.
#pragma once
#include <cuda_fp16.h>
#include <stdint.h>

// DESIGN §6: all arithmetic on u32 with wrap-around.
__device__ __forceinline__ uint32_t lowbias32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

// The two digest terms of element c at column j (DESIGN §6).
__device__ __forceinline__ void pot_terms(int32_t c, uint32_t j, uint32_t k2, uint32_t k3, uint32_t& d1, uint32_t& d2) {
  const uint32_t u = static_cast<uint32_t>(c);
  d1 += lowbias32((u ^ k2) + j * 0x9E3779B9u);
  d2 += lowbias32((u ^ k3) + j * 0x85EBCA6Bu);
}

// The fp32 accumulator holds an exact integer below 2^24, so round-to-nearest is exact.
__device__ __forceinline__ int32_t exact_int(float v) { return __float2int_rn(v); }

__device__ __forceinline__ uint64_t global_ns() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

// The SM clock observed while a block ran: cycles and nanoseconds are added
// to clk[0], clk[1]; the host divides them. One block samples, the others
// run at the same clock (one clock domain per GPU).
struct ClockSample {
  uint64_t cycles, ns;
  __device__ __forceinline__ void start() {
    ns = global_ns();
    cycles = clock64();
  }
  __device__ __forceinline__ void stop(unsigned long long* clk) {
    const uint64_t c = clock64();
    const uint64_t t = global_ns();
    atomicAdd(clk, static_cast<unsigned long long>(c - cycles));
    atomicAdd(clk + 1, static_cast<unsigned long long>(t - ns));
  }
};

// Writes one PoT operand into a padded np x np fp16 matrix (zeros outside n x n).
//   transposed = 0: out[i][j] = A_r[i][j] = (lowbias32(s ^ (i*n+j)) mod 511) - 255
//   transposed = 1: out[j][k] = B[k][j]   = (lowbias32(s ^ (k*n+j)) mod 31) - 15
// B is stored transposed so both GEMM operands are K-contiguous.
extern "C" __global__ void pot_gen(__half* __restrict__ out, uint32_t s, uint32_t n, uint32_t np, uint32_t transposed) {
  const uint32_t col = blockIdx.x * blockDim.x + threadIdx.x;
  const uint32_t row = blockIdx.y;
  if (col >= np || row >= np) return;
  float v = 0.f;
  if (row < n && col < n) {
    if (transposed) {
      const uint32_t h = lowbias32(s ^ (col * n + row));
      v = static_cast<float>(static_cast<int32_t>(h % 31u) - 15);
    } else {
      const uint32_t h = lowbias32(s ^ (row * n + col));
      v = static_cast<float>(static_cast<int32_t>(h % 511u) - 255);
    }
  }
  out[static_cast<size_t>(row) * np + col] = __float2half_rn(v);
}
