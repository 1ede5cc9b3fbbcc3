// The committed PTX (native/kernels/*.ptx), embedded in the addon at build
// time by kernels/embed_ptx.py so the addon needs no files beside it.
#pragma once

namespace capanode {

extern const char kPtxBench[];
extern const char kPtxPotMma[];
extern const char kPtxPotWmma[];

/** Dynamic shared memory of the mma.sync GEMM: 4 stages x (A + Bt) tiles of 128 x 32 halves. */
constexpr int kPotMmaSharedBytes = 4 * 2 * 128 * 32 * 2;

}  // namespace capanode
