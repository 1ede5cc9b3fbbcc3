#include <chrono>
#include <cstring>
#include <unordered_map>

#include "pot_run.h"
#include "rep_hash.h"

namespace capanode {

std::vector<std::vector<size_t>> keepSlots(const PotRequest& req) {
  std::unordered_map<uint32_t, std::vector<size_t>> byRep;
  for (size_t k = 0; k < req.keep.size(); ++k) byRep[req.keep[k]].push_back(k);
  std::vector<std::vector<size_t>> out(req.reps.size());
  for (size_t t = 0; t < req.reps.size(); ++t) {
    auto it = byRep.find(req.reps[t]);
    if (it != byRep.end()) {
      out[t] = std::move(it->second);
      byRep.erase(it);  // a rep listed twice is kept from its first run
    }
  }
  return out;
}

PotOutcome cpuPotRun(const PotRequest& req) {
  const auto t0 = std::chrono::steady_clock::now();
  const unsigned threads = req.threads == 0 ? defaultThreads() : req.threads;
  const uint32_t n = req.n;
  const size_t repBytes = static_cast<size_t>(n) * 8;
  PotOutcome out;
  out.kernel = "cpu";
  out.repHashes.resize(req.reps.size() * kRepHashBytes);
  out.kept.resize(req.keep.size() * repBytes);
  const auto slots = keepSlots(req);

  const PackedB B(req.keys, n, threads);
  std::vector<PotRow> rows(n);
  std::vector<uint32_t> digests(static_cast<size_t>(n) * 2);
  for (size_t t = 0; t < req.reps.size(); ++t) {
    const uint32_t r = req.reps[t];
    for (uint32_t i = 0; i < n; ++i) rows[i] = PotRow{r, i};
    potRowDigests(req.keys, B, rows.data(), n, digests.data(), threads);
    repHash(r, digests.data(), n, out.repHashes.data() + t * kRepHashBytes);
    for (size_t k : slots[t]) std::memcpy(out.kept.data() + k * repBytes, digests.data(), repBytes);
  }
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  out.elapsedUs = us;
  out.wallUs = us;
  return out;
}

}  // namespace capanode
