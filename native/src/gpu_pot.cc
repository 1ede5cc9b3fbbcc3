// PoT on a GPU (DESIGN §6): B and every A_r generated on the device, the
// FP16 tensor-core GEMM with the row digests fused into its epilogue, each
// rep's 8n bytes of digests copied back while later reps run, and hashed
// here into repHash(r) so host memory stays bounded whatever the reps.
#include <chrono>
#include <cstring>

#include "gpu.h"
#include "pot_run.h"
#include "ptx.h"
#include "rep_hash.h"

namespace capanode {

namespace {

constexpr uint32_t kTile = 128;  // both GEMM kernels' block tile
constexpr size_t kSlots = 64;    // reps in flight between the GPU and the hashing thread

}  // namespace

PotOutcome gpuPotRun(int ordinal, const PotRequest& req) {
  const auto wall0 = std::chrono::steady_clock::now();
  Gpu& gpu = Gpu::open();
  std::unique_lock<std::mutex> lock;
  Device& d = gpu.enter(ordinal, lock);
  Job job(gpu, d, req.timeoutMs);
  const CudaApi& a = job.api();

  uint32_t n = req.n;
  uint32_t np = (n + kTile - 1) / kTile * kTile;
  const size_t matBytes = static_cast<size_t>(np) * np * 2;
  const size_t repBytes = static_cast<size_t>(n) * 8;
  const size_t count = req.reps.size();
  const size_t slots = std::min(count, kSlots);

  CUdeviceptr A = job.alloc(matBytes);
  CUdeviceptr Bt = job.alloc(matBytes);
  CUdeviceptr dig = job.alloc(repBytes);
  CUdeviceptr clk = job.alloc(16);
  auto* host = static_cast<uint8_t*>(job.hostAlloc(slots * repBytes));
  auto* clkHost = static_cast<unsigned long long*>(job.hostAlloc(16));
  std::vector<CUevent> slotDone(slots);
  for (auto& e : slotDone) e = job.event();
  CUevent start = job.event();
  CUevent stop = job.event();
  CUevent clkDone = job.event();

  PotOutcome out;
  out.kernel = d.mma ? "mma.sync" : "wmma";
  out.repHashes.resize(count * kRepHashBytes);
  out.kept.resize(req.keep.size() * repBytes);
  const auto keep = keepSlots(req);

  uint32_t k2 = req.keys.k2, k3 = req.keys.k3;
  uint32_t transposed = 1, plain = 0;
  uint32_t sB = potStream(req.keys, 1, 0);
  const unsigned genGrid = (np + 255) / 256;
  const unsigned smem = d.mma ? static_cast<unsigned>(kPotMmaSharedBytes) : 0;

  auto consume = [&](size_t t) {
    const auto* digests = reinterpret_cast<const uint32_t*>(host + (t % slots) * repBytes);
    repHash(req.reps[t], digests, n, out.repHashes.data() + t * kRepHashBytes);
    for (size_t k : keep[t]) std::memcpy(out.kept.data() + k * repBytes, digests, repBytes);
  };

  CU_TRY(a, cuMemsetD32Async, clk, 0u, 4, job.stream());
  job.record(start);
  void* genB[] = {&Bt, &sB, &n, &np, &transposed};
  job.launch(d.gen, genGrid, np, 256, 0, genB, "pot_gen (B)");
  for (size_t t = 0; t < count; ++t) {
    const size_t slot = t % slots;
    if (t >= slots) {
      job.wait(slotDone[slot], "a PoT rep");
      consume(t - slots);
    }
    uint32_t sA = potStream(req.keys, 0, req.reps[t]);
    void* genA[] = {&A, &sA, &n, &np, &plain};
    void* gemm[] = {&A, &Bt, &n, &np, &dig, &k2, &k3, &clk};
    CU_TRY(a, cuMemsetD32Async, dig, 0u, static_cast<size_t>(n) * 2, job.stream());
    job.launch(d.gen, genGrid, np, 256, 0, genA, "pot_gen (A)");
    job.launch(d.gemmDigest, np / kTile, np / kTile, 256, smem, gemm, "pot_gemm_digest");
    CU_TRY(a, cuMemcpyDtoHAsync_v2, host + slot * repBytes, dig, repBytes, job.stream());
    job.record(slotDone[slot]);
  }
  job.record(stop);
  CU_TRY(a, cuMemcpyDtoHAsync_v2, clkHost, clk, 16, job.stream());
  job.record(clkDone);
  for (size_t t = count > slots ? count - slots : 0; t < count; ++t) {
    job.wait(slotDone[t % slots], "a PoT rep");
    consume(t);
  }
  job.wait(clkDone, "the PoT run");

  out.elapsedUs = static_cast<double>(job.elapsedMs(start, stop)) * 1000.0;
  out.smClockMhz = clkHost[1] > 0 ? static_cast<double>(clkHost[0]) / static_cast<double>(clkHost[1]) * 1000.0 : 0.0;
  out.wallUs = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - wall0).count();
  return out;
}

}  // namespace capanode
