// FP16 tensor-core GEMM with FP32 accumulation for sm_80 and newer (mma.sync
// m16n8k16, ldmatrix, a cp.async pipeline), with the PoT row digests fused
// into the epilogue (DESIGN §6).
//
// C = A x B with A stored [m][k] and B stored transposed, Bt [n][k], both
// padded to np x np (np a multiple of 128; the padding is zero). A block
// computes a 128 x 128 tile of C with 8 warps of 64 x 32 each.
#include "common.cuh"

namespace {

constexpr int BM = 128;
constexpr int BN = 128;
constexpr int BK = 32;  // halves: one smem row is 64 bytes, four 16-byte chunks
constexpr int STAGES = 4;
constexpr int THREADS = 256;
constexpr int WARP_M = 64;
constexpr int WARP_N = 32;
constexpr int MT = WARP_M / 16;  // m16 tiles per warp
constexpr int NT = WARP_N / 8;   // n8 tiles per warp
constexpr int TILE_HALVES = BM * BK;  // per operand per stage (BM == BN)
constexpr int CHUNKS = BK / 8;        // 16-byte chunks per smem row

static_assert(BM == BN, "one tile size for both operands");
static_assert(CHUNKS == 4, "the swizzle below assumes four chunks per row");

// Chunk c of row r lives at chunk c ^ ((r >> 1) & 3): eight consecutive rows
// read by one ldmatrix phase then fall in eight distinct 16-byte bank groups.
__device__ __forceinline__ int swz(int row, int chunk) { return row * BK + ((chunk ^ ((row >> 1) & 3)) << 3); }

__device__ __forceinline__ uint32_t smem_addr(const void* p) { return static_cast<uint32_t>(__cvta_generic_to_shared(p)); }

__device__ __forceinline__ void cp_async16(uint32_t dst, const void* src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(src));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

__device__ __forceinline__ void mma16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Copies the k-slice kt of this block's A and Bt tiles into one stage: each
// operand is 128 rows x 4 chunks = 512 chunks, two per thread.
__device__ __forceinline__ void load_stage(__half* sA, __half* sB, const __half* gA, const __half* gB, int np, int kt) {
  const int k0 = kt * BK;
#pragma unroll
  for (int p = 0; p < 2; ++p) {
    const int idx = threadIdx.x + p * THREADS;
    const int row = idx >> 2;
    const int chunk = idx & 3;
    const size_t g = static_cast<size_t>(row) * np + k0 + chunk * 8;
    cp_async16(smem_addr(sA + swz(row, chunk)), gA + g);
    cp_async16(smem_addr(sB + swz(row, chunk)), gB + g);
  }
}

template <bool Digest>
__device__ __forceinline__ void gemm_tile(const __half* __restrict__ A, const __half* __restrict__ Bt, int n, int np, float* __restrict__ C,
                                          uint32_t* __restrict__ digests, uint32_t k2, uint32_t k3, unsigned long long* clk) {
  extern __shared__ __align__(128) __half smem[];
  __half* sA = smem;
  __half* sB = smem + STAGES * TILE_HALVES;

  const bool sampler = clk != nullptr && blockIdx.x == 0 && blockIdx.y == 0 && threadIdx.x == 0;
  ClockSample clock{};
  if (sampler) clock.start();

  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int wm = warp >> 2;  // 0..1
  const int wn = warp & 3;   // 0..3
  const int rowBase = blockIdx.y * BM;
  const int colBase = blockIdx.x * BN;
  const __half* gA = A + static_cast<size_t>(rowBase) * np;
  const __half* gB = Bt + static_cast<size_t>(colBase) * np;
  const int KT = np / BK;

  float acc[MT][NT][4];
#pragma unroll
  for (int i = 0; i < MT; ++i)
#pragma unroll
    for (int j = 0; j < NT; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[i][j][e] = 0.f;

#pragma unroll
  for (int s = 0; s < STAGES - 1; ++s) {
    if (s < KT) load_stage(sA + s * TILE_HALVES, sB + s * TILE_HALVES, gA, gB, np, s);
    cp_async_commit();
  }

  // ldmatrix lane roles. A (x4 = one m16 x k16 tile): lanes 0-15 give rows
  // 0-15 at k 0-7, lanes 16-31 rows 0-15 at k 8-15, matching fragment a0..a3.
  const int aRow = lane & 15;
  const int aChunk = lane >> 4;
  // Bt (x4 = two n8 x k16 tiles): matrices (n0-7,k0-7) (n0-7,k8-15)
  // (n8-15,k0-7) (n8-15,k8-15) give b0,b1 of one n8 tile, then of the next.
  const int bRow = (lane & 7) + ((lane >> 4) << 3);
  const int bChunk = (lane >> 3) & 1;

  for (int kt = 0; kt < KT; ++kt) {
    cp_async_wait<STAGES - 2>();
    __syncthreads();
    // Refill the stage every warp finished reading in the previous iteration.
    const int next = kt + STAGES - 1;
    if (next < KT) load_stage(sA + (next % STAGES) * TILE_HALVES, sB + (next % STAGES) * TILE_HALVES, gA, gB, np, next);
    cp_async_commit();

    const __half* tA = sA + (kt % STAGES) * TILE_HALVES;
    const __half* tB = sB + (kt % STAGES) * TILE_HALVES;
#pragma unroll
    for (int ks = 0; ks < BK / 16; ++ks) {
      uint32_t af[MT][4];
      uint32_t bf[NT][2];
#pragma unroll
      for (int i = 0; i < MT; ++i) {
        const int r = wm * WARP_M + i * 16 + aRow;
        ldmatrix_x4(af[i], smem_addr(tA + swz(r, ks * 2 + aChunk)));
      }
#pragma unroll
      for (int j = 0; j < NT; j += 2) {
        const int r = wn * WARP_N + j * 8 + bRow;
        uint32_t t[4];
        ldmatrix_x4(t, smem_addr(tB + swz(r, ks * 2 + bChunk)));
        bf[j][0] = t[0];
        bf[j][1] = t[1];
        bf[j + 1][0] = t[2];
        bf[j + 1][1] = t[3];
      }
#pragma unroll
      for (int i = 0; i < MT; ++i)
#pragma unroll
        for (int j = 0; j < NT; ++j) mma16816(acc[i][j], af[i], bf[j][0], bf[j][1]);
    }
  }
  cp_async_wait<0>();

  // Accumulator fragment: c0,c1 at (row g, cols 2t, 2t+1), c2,c3 at row g+8,
  // with g = lane / 4 and t = lane % 4. The four lanes of a quad share rows.
  const int g = lane >> 2;
  const int t = lane & 3;
#pragma unroll
  for (int i = 0; i < MT; ++i) {
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int row = rowBase + wm * WARP_M + i * 16 + g + half * 8;
      if constexpr (Digest) {
        uint32_t d1 = 0;
        uint32_t d2 = 0;
#pragma unroll
        for (int j = 0; j < NT; ++j) {
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const int col = colBase + wn * WARP_N + j * 8 + 2 * t + e;
            if (col < n) pot_terms(exact_int(acc[i][j][half * 2 + e]), static_cast<uint32_t>(col), k2, k3, d1, d2);
          }
        }
        // Wrapping sums commute, so the quad, then the other blocks, may add in any order.
        d1 += __shfl_xor_sync(0xffffffffu, d1, 1);
        d2 += __shfl_xor_sync(0xffffffffu, d2, 1);
        d1 += __shfl_xor_sync(0xffffffffu, d1, 2);
        d2 += __shfl_xor_sync(0xffffffffu, d2, 2);
        if (t == 0 && row < n) {
          atomicAdd(digests + 2 * row, d1);
          atomicAdd(digests + 2 * row + 1, d2);
        }
      } else {
#pragma unroll
        for (int j = 0; j < NT; ++j) {
          const int col = colBase + wn * WARP_N + j * 8 + 2 * t;
          *reinterpret_cast<float2*>(C + static_cast<size_t>(row) * np + col) = make_float2(acc[i][j][half * 2], acc[i][j][half * 2 + 1]);
        }
      }
    }
  }

  if (sampler) clock.stop(clk);
}

}  // namespace

// Shared memory: STAGES x (A + Bt) tiles of 128 x 32 halves = 64 KiB (dynamic; the host opts in).
extern "C" __global__ void __launch_bounds__(THREADS, 2)
    pot_gemm_digest(const __half* __restrict__ A, const __half* __restrict__ Bt, int n, int np, uint32_t* __restrict__ digests, uint32_t k2, uint32_t k3,
                    unsigned long long* clk) {
  gemm_tile<true>(A, Bt, n, np, nullptr, digests, k2, k3, clk);
}

extern "C" __global__ void __launch_bounds__(THREADS, 2)
    gemm_f16_f32(const __half* __restrict__ A, const __half* __restrict__ Bt, int np, float* __restrict__ C, unsigned long long* clk) {
  gemm_tile<false>(A, Bt, np, np, C, nullptr, 0, 0, clk);
}
