#include "pot_cpu.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CAPANODE_X86 1
#endif

namespace capanode {

namespace {

constexpr uint32_t kRowsPerBlock = 8;
constexpr uint32_t kPanelCols = 8;

// Runs fn(task) for task in [0, tasks) on up to `threads` threads (this one included).
template <typename Fn>
void parallelFor(size_t tasks, unsigned threads, Fn fn) {
  std::atomic<size_t> next{0};
  auto work = [&]() {
    for (size_t t = next.fetch_add(1, std::memory_order_relaxed); t < tasks; t = next.fetch_add(1, std::memory_order_relaxed)) fn(t);
  };
  const size_t extra = std::min<size_t>(threads > 0 ? threads - 1 : 0, tasks > 0 ? tasks - 1 : 0);
  std::vector<std::thread> pool;
  pool.reserve(extra);
  for (size_t k = 0; k < extra; ++k) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
}

inline int16_t aValue(uint32_t h) { return static_cast<int16_t>(static_cast<int32_t>(h % 511u) - 255); }
inline int16_t bValue(uint32_t h) { return static_cast<int16_t>(static_cast<int32_t>(h % 31u) - 15); }

inline uint32_t packPair(int16_t lo, int16_t hi) { return static_cast<uint16_t>(lo) | (static_cast<uint32_t>(static_cast<uint16_t>(hi)) << 16); }

// Row i of A_r as kp packed pairs (A[2q], A[2q+1]); an odd n ends with a 0.
void aRowPairs(uint32_t s, uint32_t n, uint32_t i, uint32_t kp, uint32_t* out) {
  const uint32_t base = i * n;  // u32 wrap, as DESIGN §6 defines i*n+j
  for (uint32_t q = 0; q < kp; ++q) {
    const uint32_t j = 2 * q;
    const int16_t lo = aValue(lowbias32(s ^ (base + j)));
    const int16_t hi = j + 1 < n ? aValue(lowbias32(s ^ (base + j + 1))) : 0;
    out[q] = packPair(lo, hi);
  }
}

// acc[r][c] = sum over pairs q of A[r] pair q · panel pair q, column c: 8 rows x 8 columns.
void panelGeneric(const uint32_t* a, uint32_t kp, const int16_t* panel, int32_t (&acc)[kRowsPerBlock][kPanelCols]) {
  for (auto& row : acc) std::fill(std::begin(row), std::end(row), 0);
  for (uint32_t q = 0; q < kp; ++q) {
    const int16_t* b = panel + static_cast<size_t>(q) * 16;
    for (uint32_t r = 0; r < kRowsPerBlock; ++r) {
      const uint32_t pr = a[static_cast<size_t>(r) * kp + q];
      const int32_t a0 = static_cast<int16_t>(pr & 0xffff);
      const int32_t a1 = static_cast<int16_t>(pr >> 16);
      for (uint32_t c = 0; c < kPanelCols; ++c) acc[r][c] += a0 * b[2 * c] + a1 * b[2 * c + 1];
    }
  }
}

#ifdef CAPANODE_X86
// Same as panelGeneric, eight accumulators in ymm registers: per pair of B
// rows one load of 8 columns, then one vpmaddwd + vpaddd per A row.
__attribute__((target("avx2"))) void panelAvx2(const uint32_t* a, uint32_t kp, const int16_t* panel, int32_t (&acc)[kRowsPerBlock][kPanelCols]) {
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  const uint32_t *a0 = a, *a1 = a + kp, *a2 = a + 2 * size_t{kp}, *a3 = a + 3 * size_t{kp};
  const uint32_t *a4 = a + 4 * size_t{kp}, *a5 = a + 5 * size_t{kp}, *a6 = a + 6 * size_t{kp}, *a7 = a + 7 * size_t{kp};
  for (uint32_t q = 0; q < kp; ++q) {
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + static_cast<size_t>(q) * 16));
    c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_set1_epi32(static_cast<int>(a0[q])), b));
    c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_set1_epi32(static_cast<int>(a1[q])), b));
    c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(_mm256_set1_epi32(static_cast<int>(a2[q])), b));
    c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(_mm256_set1_epi32(static_cast<int>(a3[q])), b));
    c4 = _mm256_add_epi32(c4, _mm256_madd_epi16(_mm256_set1_epi32(static_cast<int>(a4[q])), b));
    c5 = _mm256_add_epi32(c5, _mm256_madd_epi16(_mm256_set1_epi32(static_cast<int>(a5[q])), b));
    c6 = _mm256_add_epi32(c6, _mm256_madd_epi16(_mm256_set1_epi32(static_cast<int>(a6[q])), b));
    c7 = _mm256_add_epi32(c7, _mm256_madd_epi16(_mm256_set1_epi32(static_cast<int>(a7[q])), b));
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc[0]), c0);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc[1]), c1);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc[2]), c2);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc[3]), c3);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc[4]), c4);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc[5]), c5);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc[6]), c6);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc[7]), c7);
}
#endif

// Rows 2q and 2q+1 of B, for q in [q0, q1), into their 32-byte slots of every
// panel (an odd n's last pair has a zero second row). Panel by panel, so the
// stores of a task are contiguous; 8 columns of both rows at a time, which
// the compiler vectorises.
inline void genPairRows(uint32_t s, uint32_t n, uint32_t kp, uint32_t q0, uint32_t q1, int16_t* data) {
  const uint32_t full = n / kPanelCols;
  for (uint32_t p = 0; p < full; ++p) {
    const uint32_t j0 = p * kPanelCols;
    int16_t* slot = data + (static_cast<size_t>(p) * kp + q0) * 16;
    for (uint32_t q = q0; q < q1; ++q, slot += 16) {
      const uint32_t base0 = 2 * q * n + j0;
      const uint32_t base1 = base0 + n;
      const bool second = 2 * q + 1 < n;
      int16_t lo[kPanelCols], hi[kPanelCols];
      for (uint32_t c = 0; c < kPanelCols; ++c) {
        lo[c] = bValue(lowbias32(s ^ (base0 + c)));
        hi[c] = second ? bValue(lowbias32(s ^ (base1 + c))) : 0;
      }
      for (uint32_t c = 0; c < kPanelCols; ++c) {
        slot[2 * c] = lo[c];
        slot[2 * c + 1] = hi[c];
      }
    }
  }
  for (uint32_t q = q0; q < q1; ++q) {
    for (uint32_t j = full * kPanelCols; j < n; ++j) {
      int16_t* slot = data + (static_cast<size_t>(j / kPanelCols) * kp + q) * 16 + (j % kPanelCols) * 2;
      slot[0] = bValue(lowbias32(s ^ (2 * q * n + j)));
      slot[1] = 2 * q + 1 < n ? bValue(lowbias32(s ^ ((2 * q + 1) * n + j))) : 0;
    }
  }
}

void genPairRowsGeneric(uint32_t s, uint32_t n, uint32_t kp, uint32_t q0, uint32_t q1, int16_t* data) { genPairRows(s, n, kp, q0, q1, data); }

#ifdef CAPANODE_X86
// The same code compiled for AVX2: 8-lane hashing.
__attribute__((target("avx2"))) void genPairRowsAvx2(uint32_t s, uint32_t n, uint32_t kp, uint32_t q0, uint32_t q1, int16_t* data) {
  genPairRows(s, n, kp, q0, q1, data);
}
#endif

// The AVX2 builds where the CPU has it (chosen once, when the addon loads).
#ifdef CAPANODE_X86
bool hasAvx2() {
  __builtin_cpu_init();  // runs from a static initialiser: make sure the CPU was probed
  return __builtin_cpu_supports("avx2");
}
const bool kAvx2 = hasAvx2();
const auto kPanel = kAvx2 ? panelAvx2 : panelGeneric;
const auto kGenPairRows = kAvx2 ? genPairRowsAvx2 : genPairRowsGeneric;
#else
const auto kPanel = panelGeneric;
const auto kGenPairRows = genPairRowsGeneric;
#endif

}  // namespace

unsigned defaultThreads() { return std::max(1u, std::thread::hardware_concurrency()); }

PackedB::PackedB(const PotKeys& keys, uint32_t n, unsigned threads) : n_(n), kp_((n + 1) / 2), panels_((n + kPanelCols - 1) / kPanelCols) {
  data_.assign(static_cast<size_t>(panels_) * kp_ * 16, 0);
  const uint32_t s = potStream(keys, 1, 0);
  const uint32_t chunk = 64;  // pairs of B rows per task: 2 KiB of contiguous stores per panel
  parallelFor((kp_ + chunk - 1) / chunk, threads, [&](size_t t) {
    const uint32_t q0 = static_cast<uint32_t>(t) * chunk;
    kGenPairRows(s, n, kp_, q0, std::min(kp_, q0 + chunk), data_.data());
  });
}

void potRowDigests(const PotKeys& keys, const PackedB& B, const PotRow* rows, size_t count, uint32_t* out, unsigned threads) {
  if (count == 0) return;
  if (threads == 0) threads = defaultThreads();
  const uint32_t n = B.n();
  const uint32_t kp = B.kpairs();
  const uint32_t panels = B.panels();
  const size_t blocks = (count + kRowsPerBlock - 1) / kRowsPerBlock;
  // Few rows (a verifier's k = 16): split the columns too, so every core has work.
  const size_t wanted = static_cast<size_t>(threads) * 4;
  const uint32_t splits = blocks >= wanted ? 1u : static_cast<uint32_t>(std::min<size_t>(panels, (wanted + blocks - 1) / blocks));
  const uint32_t panelsPerSplit = (panels + splits - 1) / splits;
  // partial[(block * splits + split) * 16 + 2*r + {0,1}]: summed in a fixed order afterwards.
  std::vector<uint32_t> partial(blocks * splits * kRowsPerBlock * 2, 0);

  parallelFor(blocks * splits, threads, [&](size_t task) {
    const size_t block = task / splits;
    const uint32_t split = static_cast<uint32_t>(task % splits);
    const uint32_t p0 = split * panelsPerSplit;
    const uint32_t p1 = std::min(panels, p0 + panelsPerSplit);
    if (p0 >= p1) return;
    std::vector<uint32_t> a(static_cast<size_t>(kRowsPerBlock) * kp, 0);
    const size_t first = block * kRowsPerBlock;
    const size_t used = std::min<size_t>(kRowsPerBlock, count - first);
    for (size_t r = 0; r < used; ++r) aRowPairs(potStream(keys, 0, rows[first + r].r), n, rows[first + r].i, kp, a.data() + r * kp);
    uint32_t d1[kRowsPerBlock] = {};
    uint32_t d2[kRowsPerBlock] = {};
    int32_t acc[kRowsPerBlock][kPanelCols];
    for (uint32_t p = p0; p < p1; ++p) {
      kPanel(a.data(), kp, B.panel(p), acc);
      const uint32_t j0 = p * kPanelCols;
      const uint32_t cols = std::min(kPanelCols, n - j0);
      for (size_t r = 0; r < used; ++r) {
        for (uint32_t c = 0; c < cols; ++c) {
          const uint32_t j = j0 + c;
          const uint32_t u = static_cast<uint32_t>(acc[r][c]);
          d1[r] += lowbias32((u ^ keys.k2) + j * 0x9E3779B9u);
          d2[r] += lowbias32((u ^ keys.k3) + j * 0x85EBCA6Bu);
        }
      }
    }
    uint32_t* slot = partial.data() + task * kRowsPerBlock * 2;
    for (size_t r = 0; r < used; ++r) {
      slot[2 * r] = d1[r];
      slot[2 * r + 1] = d2[r];
    }
  });

  std::memset(out, 0, count * 2 * sizeof(uint32_t));
  for (size_t block = 0; block < blocks; ++block) {
    for (uint32_t split = 0; split < splits; ++split) {
      const uint32_t* slot = partial.data() + (block * splits + split) * kRowsPerBlock * 2;
      const size_t first = block * kRowsPerBlock;
      const size_t used = std::min<size_t>(kRowsPerBlock, count - first);
      for (size_t r = 0; r < used; ++r) {
        out[2 * (first + r)] += slot[2 * r];
        out[2 * (first + r) + 1] += slot[2 * r + 1];
      }
    }
  }
}

void potComputeAll(const PotKeys& keys, uint32_t n, uint32_t reps, uint32_t* out, unsigned threads) {
  if (threads == 0) threads = defaultThreads();
  const PackedB B(keys, n, threads);
  std::vector<PotRow> rows(n);
  for (uint32_t r = 0; r < reps; ++r) {
    for (uint32_t i = 0; i < n; ++i) rows[i] = PotRow{r, i};
    potRowDigests(keys, B, rows.data(), n, out + static_cast<size_t>(r) * n * 2, threads);
  }
}

}  // namespace capanode
