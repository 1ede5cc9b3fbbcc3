// One PoT run (DESIGN §6) on the CPU or a GPU: every listed rep's hash, and
// the row digests of the reps a reveal will need.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pot_cpu.h"

namespace capanode {

struct PotRequest {
  PotKeys keys{};
  uint32_t n = 0;
  /** Reps to compute, in this order (0..reps-1 for a challenge; the checked reps for a reveal). */
  std::vector<uint32_t> reps;
  /** Reps (a subset of `reps`) whose 8n bytes of digests are returned. */
  std::vector<uint32_t> keep;
  double timeoutMs = 0;
  unsigned threads = 0;
};

struct PotOutcome {
  /** 32 bytes per entry of `reps`, same order. */
  std::vector<uint8_t> repHashes;
  /** 8n bytes per entry of `keep`, same order: u32le(d1) ‖ u32le(d2) per row. */
  std::vector<uint8_t> kept;
  /** GPU: CUDA events around the whole run (B, every A_r, GEMM, digests, copies). CPU: the wall clock. */
  double elapsedUs = 0;
  /** Wall clock of the run, hashing included. */
  double wallUs = 0;
  /** SM clock observed during the GEMMs (GPU only, else 0). */
  double smClockMhz = 0;
  /** "cpu", "mma.sync" or "wmma". */
  std::string kernel;
};

PotOutcome cpuPotRun(const PotRequest& req);
PotOutcome gpuPotRun(int ordinal, const PotRequest& req);

/** Where each kept rep's digests go: for each position t in reps, the slots in `keep` that want it. */
std::vector<std::vector<size_t>> keepSlots(const PotRequest& req);

}  // namespace capanode
