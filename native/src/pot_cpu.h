// Proof of Throughput on the CPU (DESIGN §6): bit-for-bit the digests of
// proofs/pot.ts, for any n, on every core. The coordinator's fast path for
// checking reveals and the node's answer when it has no usable GPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace capanode {

struct PotKeys {
  uint32_t k0, k1, k2, k3;
};

/** Largest n the CPU path accepts: B alone is 2n² bytes (512 MiB here). */
constexpr uint32_t kPotCpuMaxN = 16384;

inline uint32_t lowbias32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

/** s(m, r): the stream key of A_r (m = 0) or B (m = 1, r = 0). */
inline uint32_t potStream(const PotKeys& k, uint32_t m, uint32_t r) { return lowbias32(k.k0 ^ lowbias32(((r << 1) | m) ^ k.k1)); }

/**
 * B packed for the row kernels: panels of 8 columns; in each panel, for each
 * pair of rows (k, k+1) of B, the 8 columns as interleaved int16 pairs
 * (B[k][j], B[k+1][j]). One pair of A entries then multiplies a pair of B
 * rows in one widening multiply-add (pmaddwd). Out-of-range entries are 0.
 */
class PackedB {
 public:
  PackedB(const PotKeys& keys, uint32_t n, unsigned threads);
  uint32_t n() const { return n_; }
  /** Pairs of rows: ceil(n / 2). */
  uint32_t kpairs() const { return kp_; }
  uint32_t panels() const { return panels_; }
  const int16_t* panel(uint32_t p) const { return data_.data() + static_cast<size_t>(p) * kp_ * 16; }

 private:
  uint32_t n_, kp_, panels_;
  std::vector<int16_t> data_;
};

struct PotRow {
  uint32_t r, i;
};

/**
 * digest(r, i) of each row: out[2t], out[2t+1] = d1, d2 of rows[t]. Work is
 * split over `threads` threads by blocks of 8 rows and, when there are few
 * rows, by column panels too.
 */
void potRowDigests(const PotKeys& keys, const PackedB& B, const PotRow* rows, size_t count, uint32_t* out, unsigned threads);

/** Every digest of reps 0..reps-1: out holds reps * n * 2 u32 (rep-major, then row, then d1, d2). */
void potComputeAll(const PotKeys& keys, uint32_t n, uint32_t reps, uint32_t* out, unsigned threads);

/** Threads to use when the caller passes 0: every core. */
unsigned defaultThreads();

}  // namespace capanode
