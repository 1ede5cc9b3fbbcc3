// FP16 tensor-core GEMM with FP32 accumulation through WMMA: the baseline
// for sm_70 and sm_75 (V100, T4), which lack cp.async and m16n8k16 mma.sync.
// Same contract as pot_mma.cu: A [m][k], Bt [n][k], both np x np (np a
// multiple of 128, zero padding), 128 x 128 tiles, 8 warps of 64 x 32.
#include <mma.h>

#include "common.cuh"

using namespace nvcuda;

namespace {

constexpr int BM = 128;
constexpr int BN = 128;
constexpr int BK = 32;
constexpr int LDS = BK + 8;  // padding breaks bank conflicts; keeps 32-byte alignment of 16-row tiles
constexpr int THREADS = 256;
constexpr int WARP_M = 64;
constexpr int WARP_N = 32;
constexpr int FM = WARP_M / 16;
constexpr int FN = WARP_N / 16;

template <bool Digest>
__device__ __forceinline__ void gemm_tile(const __half* __restrict__ A, const __half* __restrict__ Bt, int n, int np, float* __restrict__ C,
                                          uint32_t* __restrict__ digests, uint32_t k2, uint32_t k3, unsigned long long* clk) {
  __shared__ __align__(128) __half sA[2][BM][LDS];
  __shared__ __align__(128) __half sB[2][BN][LDS];

  const bool sampler = clk != nullptr && blockIdx.x == 0 && blockIdx.y == 0 && threadIdx.x == 0;
  ClockSample clock{};
  if (sampler) clock.start();

  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int wm = warp >> 2;
  const int wn = warp & 3;
  const int rowBase = blockIdx.y * BM;
  const int colBase = blockIdx.x * BN;
  const __half* gA = A + static_cast<size_t>(rowBase) * np;
  const __half* gB = Bt + static_cast<size_t>(colBase) * np;
  const int KT = np / BK;

  // Each thread moves two 16-byte chunks of each operand per k-slice.
  uint4 ra[2];
  uint4 rb[2];
  auto fetch = [&](int kt) {
#pragma unroll
    for (int p = 0; p < 2; ++p) {
      const int idx = threadIdx.x + p * THREADS;
      const size_t g = static_cast<size_t>(idx >> 2) * np + kt * BK + (idx & 3) * 8;
      ra[p] = *reinterpret_cast<const uint4*>(gA + g);
      rb[p] = *reinterpret_cast<const uint4*>(gB + g);
    }
  };
  auto stash = [&](int st) {
#pragma unroll
    for (int p = 0; p < 2; ++p) {
      const int idx = threadIdx.x + p * THREADS;
      *reinterpret_cast<uint4*>(&sA[st][idx >> 2][(idx & 3) * 8]) = ra[p];
      *reinterpret_cast<uint4*>(&sB[st][idx >> 2][(idx & 3) * 8]) = rb[p];
    }
  };

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[FM][FN];
#pragma unroll
  for (int i = 0; i < FM; ++i)
#pragma unroll
    for (int j = 0; j < FN; ++j) wmma::fill_fragment(acc[i][j], 0.f);

  fetch(0);
  stash(0);
  __syncthreads();
  for (int kt = 0; kt < KT; ++kt) {
    const int st = kt & 1;
    if (kt + 1 < KT) fetch(kt + 1);  // global loads in flight while the tensor cores work
#pragma unroll
    for (int ks = 0; ks < BK; ks += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa[FM];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> fb[FN];
#pragma unroll
      for (int i = 0; i < FM; ++i) wmma::load_matrix_sync(fa[i], &sA[st][wm * WARP_M + i * 16][ks], LDS);
#pragma unroll
      for (int j = 0; j < FN; ++j) wmma::load_matrix_sync(fb[j], &sB[st][wn * WARP_N + j * 16][ks], LDS);
#pragma unroll
      for (int i = 0; i < FM; ++i)
#pragma unroll
        for (int j = 0; j < FN; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
    if (kt + 1 < KT) stash(st ^ 1);
    __syncthreads();
  }

  if constexpr (Digest) {
    // WMMA fragments are opaque: each warp spills one 16 x 16 tile at a time
    // to its own scratch (reusing sA), two lanes per row read it back.
    float* scratch = reinterpret_cast<float*>(&sA[0][0][0]) + warp * 256;
    const int r = lane >> 1;
    const int c0 = (lane & 1) * 8;
#pragma unroll
    for (int i = 0; i < FM; ++i) {
      const int row = rowBase + wm * WARP_M + i * 16 + r;
      uint32_t d1 = 0;
      uint32_t d2 = 0;
#pragma unroll
      for (int j = 0; j < FN; ++j) {
        wmma::store_matrix_sync(scratch, acc[i][j], 16, wmma::mem_row_major);
        __syncwarp();
#pragma unroll
        for (int e = 0; e < 8; ++e) {
          const int col = colBase + wn * WARP_N + j * 16 + c0 + e;
          if (col < n) pot_terms(exact_int(scratch[r * 16 + c0 + e]), static_cast<uint32_t>(col), k2, k3, d1, d2);
        }
        __syncwarp();
      }
      d1 += __shfl_xor_sync(0xffffffffu, d1, 1);
      d2 += __shfl_xor_sync(0xffffffffu, d2, 1);
      if ((lane & 1) == 0 && row < n) {
        atomicAdd(digests + 2 * row, d1);
        atomicAdd(digests + 2 * row + 1, d2);
      }
    }
  } else {
#pragma unroll
    for (int i = 0; i < FM; ++i)
#pragma unroll
      for (int j = 0; j < FN; ++j) {
        float* dst = C + static_cast<size_t>(rowBase + wm * WARP_M + i * 16) * np + colBase + wn * WARP_N + j * 16;
        wmma::store_matrix_sync(dst, acc[i][j], np, wmma::mem_row_major);
      }
  }

  if (sampler) clock.stop(clk);
}

}  // namespace

extern "C" __global__ void __launch_bounds__(THREADS)
    pot_gemm_digest(const __half* __restrict__ A, const __half* __restrict__ Bt, int n, int np, uint32_t* __restrict__ digests, uint32_t k2, uint32_t k3,
                    unsigned long long* clk) {
  gemm_tile<true>(A, Bt, n, np, nullptr, digests, k2, k3, clk);
}

extern "C" __global__ void __launch_bounds__(THREADS)
    gemm_f16_f32(const __half* __restrict__ A, const __half* __restrict__ Bt, int np, float* __restrict__ C, unsigned long long* clk) {
  gemm_tile<false>(A, Bt, np, np, C, nullptr, 0, 0, clk);
}
