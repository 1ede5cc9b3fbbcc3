#include "gpu.h"

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "ptx.h"

namespace capanode {

namespace {

std::mutex g_registry_mu;
// One Gpu per libcuda path asked for (tests switch $CAPANODE_LIBCUDA); never unloaded.
std::map<std::string, std::unique_ptr<Gpu>>& registry() {
  static std::map<std::string, std::unique_ptr<Gpu>> r;
  return r;
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& t : items) out += (out.empty() ? "" : sep) + t;
  return out;
}

std::string versionText(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

std::string formatUuid(const CUuuid& u) {
  static const char* hex = "0123456789abcdef";
  std::string out = "GPU-";
  for (int b = 0; b < 16; ++b) {
    if (b == 4 || b == 6 || b == 8 || b == 10) out += '-';
    const auto byte = static_cast<unsigned char>(u.bytes[b]);
    out += hex[byte >> 4];
    out += hex[byte & 15];
  }
  return out;
}

std::string formatPci(int domain, int bus, int device) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08X:%02X:%02X.0", static_cast<unsigned>(domain), static_cast<unsigned>(bus), static_cast<unsigned>(device));
  return buf;
}

int attribute(const CudaApi& api, CUdevice dev, int attr) {
  int v = 0;
  CU_TRY(api, cuDeviceGetAttribute, &v, attr, dev);
  return v;
}

CUfunction function(const CudaApi& api, CUmodule m, const char* name) {
  CUfunction f = nullptr;
  CU_TRY(api, cuModuleGetFunction, &f, m, name);
  return f;
}

}  // namespace

Gpu& Gpu::open() {
  const char* override = std::getenv("CAPANODE_LIBCUDA");
  const std::string key = override != nullptr ? override : "";
  std::unique_lock<std::mutex> guard(g_registry_mu);
  auto& slot = registry()[key];
  if (!slot) {
    CudaLibrary lib;
    CudaLoadFailure failure;
    if (!loadCudaLibrary(lib, failure)) {
      registry().erase(key);
      if (failure.incomplete) {
        fail("unavailable", "driver-incomplete",
             "a libcuda was found but lacks the CUDA driver API entry point " + failure.missingSymbol + " (" + join(failure.tried, "; ") + ")");
      }
      if (failure.allMissing) fail("unavailable", "driver-not-found", "no NVIDIA driver: libcuda was not found (looked for " + join(failure.paths, ", ") + ")");
      fail("unavailable", "driver-not-found", "no usable NVIDIA driver: libcuda could not be loaded (" + join(failure.tried, "; ") + ")");
    }
    slot.reset(new Gpu(std::move(lib)));
  }
  Gpu& gpu = *slot;
  guard.unlock();
  gpu.init();
  return gpu;
}

void Gpu::init() {
  std::lock_guard<std::mutex> guard(mu_);
  if (version_ != 0) return;
  const CUresult r = lib_.api.cuInit(0);
  if (r != cu::SUCCESS) {
    try {
      failCall(lib_.api, "cuInit", r, __FILE__, __LINE__);
    } catch (NativeFailure& f) {
      // Whatever cuInit says, nothing can run: the driver is unavailable.
      if (f.error.kind != "unavailable") f.error.reason = "driver-init-failed";
      f.error.kind = "unavailable";
      throw;
    }
  }
  int v = 0;
  CU_TRY(lib_.api, cuDriverGetVersion, &v);
  if (v < kMinDriverVersion) {
    fail("unavailable", "insufficient-driver",
         "the NVIDIA driver supports CUDA " + versionText(v) + "; the benchmark kernels need CUDA " + versionText(kMinDriverVersion) + " (driver R450) or newer");
  }
  version_ = v;
}

std::vector<DeviceInfo> Gpu::devices() {
  const CudaApi& a = lib_.api;
  int count = 0;
  CU_TRY(a, cuDeviceGetCount, &count);
  if (count == 0) fail("unavailable", "no-device", "the NVIDIA driver is loaded but reports no GPU");
  std::vector<DeviceInfo> out;
  for (int i = 0; i < count; ++i) {
    CUdevice dev = 0;
    CU_TRY(a, cuDeviceGet, &dev, i);
    DeviceInfo d;
    d.ordinal = i;
    char name[256] = {};
    CU_TRY(a, cuDeviceGetName, name, static_cast<int>(sizeof name - 1), dev);
    d.name = name;
    CUuuid u{};
    if (a.cuDeviceGetUuid_v2 != nullptr) {
      CU_TRY(a, cuDeviceGetUuid_v2, &u, dev);
    } else {
      CU_TRY(a, cuDeviceGetUuid, &u, dev);
    }
    d.uuid = formatUuid(u);
    d.pciBusId = formatPci(attribute(a, dev, cu::ATTR_PCI_DOMAIN_ID), attribute(a, dev, cu::ATTR_PCI_BUS_ID), attribute(a, dev, cu::ATTR_PCI_DEVICE_ID));
    d.ccMajor = attribute(a, dev, cu::ATTR_COMPUTE_CAPABILITY_MAJOR);
    d.ccMinor = attribute(a, dev, cu::ATTR_COMPUTE_CAPABILITY_MINOR);
    CU_TRY(a, cuDeviceTotalMem_v2, &d.totalMemBytes, dev);
    d.smCount = attribute(a, dev, cu::ATTR_MULTIPROCESSOR_COUNT);
    d.clockKhz = attribute(a, dev, cu::ATTR_CLOCK_RATE);
    d.memClockKhz = attribute(a, dev, cu::ATTR_MEMORY_CLOCK_RATE);
    d.busWidthBits = attribute(a, dev, cu::ATTR_GLOBAL_MEMORY_BUS_WIDTH);
    out.push_back(std::move(d));
  }
  return out;
}

Device& Gpu::enter(int ordinal, std::unique_lock<std::mutex>& lock) {
  const CudaApi& a = lib_.api;
  std::unique_lock<std::mutex> guard(mu_);
  auto& slot = devices_[ordinal];
  if (!slot) {
    int count = 0;
    CU_TRY(a, cuDeviceGetCount, &count);
    if (ordinal < 0 || ordinal >= count) {
      devices_.erase(ordinal);
      fail("unavailable", "bad-device", "there is no GPU " + std::to_string(ordinal) + ": the driver reports " + std::to_string(count));
    }
    auto d = std::make_unique<Device>();
    d->ordinal = ordinal;
    CU_TRY(a, cuDeviceGet, &d->dev, ordinal);
    d->ccMajor = attribute(a, d->dev, cu::ATTR_COMPUTE_CAPABILITY_MAJOR);
    d->ccMinor = attribute(a, d->dev, cu::ATTR_COMPUTE_CAPABILITY_MINOR);
    d->smCount = attribute(a, d->dev, cu::ATTR_MULTIPROCESSOR_COUNT);
    d->smemOptin = attribute(a, d->dev, cu::ATTR_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
    slot = std::move(d);
  }
  Device& d = *slot;
  guard.unlock();

  lock = std::unique_lock<std::mutex>(d.run);
  if (d.hung) {
    fail("failed", "device-hung", "GPU " + std::to_string(ordinal) + " did not finish " + d.hungWhat + " before its deadline and may still be running it");
  }
  if (d.ccMajor < 7) {
    fail("unavailable", "unsupported-device",
         "GPU " + std::to_string(ordinal) + " has compute capability " + std::to_string(d.ccMajor) + "." + std::to_string(d.ccMinor) +
             "; the benchmarks need tensor cores (7.0 or newer)");
  }
  if (d.ctx == nullptr) CU_TRY(a, cuDevicePrimaryCtxRetain, &d.ctx, d.dev);
  CU_TRY(a, cuCtxSetCurrent, d.ctx);
  loadModules(d);
  return d;
}

CUmodule Gpu::loadModule(const char* name, const char* ptx) {
  const CudaApi& a = lib_.api;
  std::vector<char> info(16384, 0);
  std::vector<char> error(16384, 0);
  CUjit_option options[] = {cu::JIT_INFO_LOG_BUFFER, cu::JIT_INFO_LOG_BUFFER_SIZE_BYTES, cu::JIT_ERROR_LOG_BUFFER, cu::JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void* values[] = {info.data(), reinterpret_cast<void*>(static_cast<uintptr_t>(info.size() - 1)), error.data(),
                    reinterpret_cast<void*>(static_cast<uintptr_t>(error.size() - 1))};
  CUmodule m = nullptr;
  const CUresult r = a.cuModuleLoadDataEx(&m, ptx, 4, options, values);
  if (r != cu::SUCCESS) {
    std::string log = error.data();
    if (info[0] != '\0') log += (log.empty() ? "" : "\n") + std::string(info.data());
    try {
      failCall(a, "cuModuleLoadDataEx", r, __FILE__, __LINE__, log);
    } catch (NativeFailure& f) {
      f.error.message = "loading the " + std::string(name) + " kernels: " + f.error.message + (log.empty() ? "" : "\nJIT log: " + log);
      throw;
    }
  }
  return m;
}

void Gpu::loadModules(Device& d) {
  const CudaApi& a = lib_.api;
  if (d.bench == nullptr) {
    CUmodule m = loadModule("bench", kPtxBench);
    d.memCopy = function(a, m, "mem_copy");
    d.fma = function(a, m, "fma_fp32");
    d.bench = m;
  }
  if (d.pot == nullptr) {
    // mma.sync with a 4-stage cp.async pipeline needs sm_80 and 64 KiB of shared memory per block.
    const bool mma = d.ccMajor >= 8 && d.smemOptin >= kPotMmaSharedBytes;
    CUmodule m = loadModule(mma ? "pot_mma" : "pot_wmma", mma ? kPtxPotMma : kPtxPotWmma);
    d.gen = function(a, m, "pot_gen");
    d.gemmDigest = function(a, m, "pot_gemm_digest");
    d.gemmF32 = function(a, m, "gemm_f16_f32");
    if (mma) {
      CU_TRY(a, cuFuncSetAttribute, d.gemmDigest, cu::FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, kPotMmaSharedBytes);
      CU_TRY(a, cuFuncSetAttribute, d.gemmF32, cu::FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, kPotMmaSharedBytes);
    }
    d.mma = mma;
    d.pot = m;
  }
}

// ---------------------------------------------------------------------------

Job::Job(Gpu& gpu, Device& device, double timeoutMs) : gpu_(gpu), device_(device), timeoutMs_(timeoutMs) {
  deadline_ = Clock::now() + std::chrono::microseconds(static_cast<long long>(timeoutMs * 1000));
  CU_TRY(api(), cuStreamCreate, &stream_, cu::STREAM_NON_BLOCKING);
}

Job::~Job() {
  const CudaApi& a = api();
  if (!device_.hung && stream_ != nullptr) {
    // Work may still be queued when a job throws: let it drain (boundedly) before freeing what it uses.
    CUevent done = nullptr;
    if (a.cuEventCreate(&done, cu::EVENT_DEFAULT) == cu::SUCCESS) {
      if (a.cuEventRecord(done, stream_) == cu::SUCCESS) {
        const auto until = std::max(deadline_, Clock::now()) + std::chrono::seconds(5);
        CUresult r;
        while ((r = a.cuEventQuery(done)) == cu::ERROR_NOT_READY && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (r == cu::ERROR_NOT_READY) {
          device_.hungWhat = "cleaning up after a failed run";
          device_.hung = true;
        }
      }
      if (!device_.hung) a.cuEventDestroy_v2(done);
    }
  }
  if (device_.hung) return;  // leaked on purpose: see the class comment
  for (CUevent e : events_) a.cuEventDestroy_v2(e);
  for (void* h : host_allocs_) a.cuMemFreeHost(h);
  for (CUdeviceptr p : device_allocs_) a.cuMemFree_v2(p);
  if (stream_ != nullptr) a.cuStreamDestroy_v2(stream_);
}

CUdeviceptr Job::alloc(size_t bytes) {
  CUdeviceptr p = 0;
  const CUresult r = api().cuMemAlloc_v2(&p, bytes);
  if (r != cu::SUCCESS) {
    try {
      failCall(api(), "cuMemAlloc_v2", r, __FILE__, __LINE__);
    } catch (NativeFailure& f) {
      f.error.message += " (allocating " + std::to_string(bytes >> 20) + " MiB on GPU " + std::to_string(device_.ordinal) + ")";
      throw;
    }
  }
  device_allocs_.push_back(p);
  return p;
}

void* Job::hostAlloc(size_t bytes) {
  void* p = nullptr;
  CU_TRY(api(), cuMemHostAlloc, &p, bytes, 0u);
  host_allocs_.push_back(p);
  return p;
}

CUevent Job::event() {
  CUevent e = nullptr;
  CU_TRY(api(), cuEventCreate, &e, cu::EVENT_DEFAULT);
  events_.push_back(e);
  return e;
}

void Job::wait(CUevent e, const char* what) {
  auto nap = std::chrono::microseconds(50);
  for (;;) {
    const CUresult r = api().cuEventQuery(e);
    if (r == cu::SUCCESS) return;
    if (r != cu::ERROR_NOT_READY) failCall(api(), "cuEventQuery", r, __FILE__, __LINE__);
    if (Clock::now() >= deadline_) {
      device_.hungWhat = what;
      device_.hung = true;
      fail("failed", "timeout",
           "GPU " + std::to_string(device_.ordinal) + " did not finish " + what + " within " + std::to_string(static_cast<long long>(timeoutMs_)) + " ms");
    }
    std::this_thread::sleep_for(nap);
    nap = std::min(nap * 2, std::chrono::microseconds(2000));
  }
}

void Job::drain(const char* what) {
  CUevent e = event();
  record(e);
  wait(e, what);
}

float Job::elapsedMs(CUevent from, CUevent to) {
  float ms = 0;
  if (api().cuEventElapsedTime_v2 != nullptr) {
    CU_TRY(api(), cuEventElapsedTime_v2, &ms, from, to);
  } else {
    CU_TRY(api(), cuEventElapsedTime, &ms, from, to);
  }
  return ms;
}

void Job::launch(CUfunction f, unsigned gx, unsigned gy, unsigned block, unsigned smem, void** params, const char* what) {
  const CUresult r = api().cuLaunchKernel(f, gx, gy, 1, block, 1, 1, smem, stream_, params, nullptr);
  if (r != cu::SUCCESS) {
    try {
      failCall(api(), "cuLaunchKernel", r, __FILE__, __LINE__);
    } catch (NativeFailure& e) {
      e.error.message += " (launching " + std::string(what) + ")";
      throw;
    }
  }
}

size_t Job::freeMemory() {
  size_t freeBytes = 0, total = 0;
  CU_TRY(api(), cuMemGetInfo_v2, &freeBytes, &total);
  return freeBytes;
}

}  // namespace capanode
