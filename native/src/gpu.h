// GPUs through the CUDA driver API: the driver, its devices, and a Job that
// owns what one benchmark allocates on one device. All of it runs on worker
// threads, never on the event loop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cuda_api.h"
#include "native_error.h"

namespace capanode {

/** Lowest driver the PTX runs on: PTX ISA 7.0 needs CUDA 11.0 (R450). */
constexpr int kMinDriverVersion = 11000;

struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  /** As nvidia-smi prints it: GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx. */
  std::string uuid;
  /** As nvidia-smi prints it: 00000000:3B:00.0. */
  std::string pciBusId;
  int ccMajor = 0, ccMinor = 0;
  size_t totalMemBytes = 0;
  int smCount = 0;
  int clockKhz = 0, memClockKhz = 0, busWidthBits = 0;
};

struct DriverInfo {
  std::string path;
  int version = 0;  // 1000 * major + 10 * minor, as cuDriverGetVersion reports
};

/** Per-device state, shared by every job on that device. */
struct Device {
  int ordinal = 0;
  CUdevice dev = 0;
  CUcontext ctx = nullptr;
  int ccMajor = 0, ccMinor = 0, smCount = 0, smemOptin = 0;
  /** One job at a time: concurrent runs would skew each other's timings. */
  std::mutex run;
  /** Set when a job timed out: the device still runs its work, so nothing more may touch it. */
  std::atomic<bool> hung{false};
  std::string hungWhat;
  CUmodule bench = nullptr;
  CUmodule pot = nullptr;
  bool mma = false;  // pot module: mma.sync (sm_80+) or WMMA
  CUfunction memCopy = nullptr, fma = nullptr, gen = nullptr, gemmDigest = nullptr, gemmF32 = nullptr;
};

class Gpu {
 public:
  /**
   * The driver for the current $CAPANODE_LIBCUDA (or the default search),
   * initialised and new enough. Throws NativeFailure ("unavailable") otherwise.
   */
  static Gpu& open();

  const CudaApi& api() const { return lib_.api; }
  DriverInfo info() const { return DriverInfo{lib_.path, version_}; }
  std::vector<DeviceInfo> devices();
  /** Locks device `ordinal` for one job, with its context current and kernels loaded. */
  Device& enter(int ordinal, std::unique_lock<std::mutex>& lock);

 private:
  explicit Gpu(CudaLibrary lib) : lib_(std::move(lib)) {}
  void init();
  void loadModules(Device& d);
  CUmodule loadModule(const char* name, const char* ptx);

  CudaLibrary lib_;
  int version_ = 0;
  std::mutex mu_;
  std::map<int, std::unique_ptr<Device>> devices_;
};

/**
 * What one job allocates, released when the job ends. After a timeout the
 * device still runs the job's kernels, and freeing would block on them, so a
 * hung job's resources are left to the process (the device is unusable anyway).
 */
class Job {
 public:
  using Clock = std::chrono::steady_clock;
  Job(Gpu& gpu, Device& device, double timeoutMs);
  ~Job();
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  const CudaApi& api() const { return gpu_.api(); }
  Device& device() { return device_; }
  CUstream stream() const { return stream_; }
  CUdeviceptr alloc(size_t bytes);
  void* hostAlloc(size_t bytes);
  CUevent event();
  void record(CUevent e) { CU_TRY(api(), cuEventRecord, e, stream_); }
  /** Waits for e, polling, until the job's deadline; past it marks the device hung and throws "timeout". */
  void wait(CUevent e, const char* what);
  /** Waits until everything queued so far on the job's stream has run. */
  void drain(const char* what);
  /** Milliseconds between two completed events. */
  float elapsedMs(CUevent from, CUevent to);
  void launch(CUfunction f, unsigned gx, unsigned gy, unsigned block, unsigned smem, void** params, const char* what);
  size_t freeMemory();

 private:
  Gpu& gpu_;
  Device& device_;
  Clock::time_point deadline_;
  double timeoutMs_;
  CUstream stream_ = nullptr;
  std::vector<CUdeviceptr> device_allocs_;
  std::vector<void*> host_allocs_;
  std::vector<CUevent> events_;
};

}  // namespace capanode
