#include "cuda_api.h"

#include <dlfcn.h>

#include <cstdlib>

namespace capanode {

namespace {

// Where drivers put libcuda when it is not on the loader's path: distributions,
// the NVIDIA container runtime, WSL, NixOS.
const char* const kCandidates[] = {
    "libcuda.so.1",
    "libcuda.so",
    "/usr/lib/x86_64-linux-gnu/libcuda.so.1",
    "/usr/lib/aarch64-linux-gnu/libcuda.so.1",
    "/usr/lib64/libcuda.so.1",
    "/usr/local/nvidia/lib64/libcuda.so.1",
    "/usr/lib/wsl/lib/libcuda.so.1",
    "/run/opengl-driver/lib/libcuda.so.1",
};

template <typename T>
bool resolve(void* handle, const char* name, T& slot, bool required, std::string& missing) {
  slot = reinterpret_cast<T>(dlsym(handle, name));
  if (slot == nullptr && required && missing.empty()) missing = name;
  return slot != nullptr || !required;
}

bool resolveAll(void* handle, CudaApi& a, std::string& missing) {
#define CAPANODE_REQUIRE(name) resolve(handle, #name, a.name, true, missing)
#define CAPANODE_OPTIONAL(name) resolve(handle, #name, a.name, false, missing)
  CAPANODE_REQUIRE(cuInit);
  CAPANODE_REQUIRE(cuDriverGetVersion);
  CAPANODE_REQUIRE(cuGetErrorName);
  CAPANODE_REQUIRE(cuGetErrorString);
  CAPANODE_REQUIRE(cuDeviceGetCount);
  CAPANODE_REQUIRE(cuDeviceGet);
  CAPANODE_REQUIRE(cuDeviceGetName);
  CAPANODE_REQUIRE(cuDeviceGetAttribute);
  CAPANODE_REQUIRE(cuDeviceTotalMem_v2);
  CAPANODE_REQUIRE(cuDeviceGetUuid);
  CAPANODE_OPTIONAL(cuDeviceGetUuid_v2);
  CAPANODE_REQUIRE(cuDevicePrimaryCtxRetain);
  CAPANODE_REQUIRE(cuDevicePrimaryCtxRelease_v2);
  CAPANODE_REQUIRE(cuCtxSetCurrent);
  CAPANODE_REQUIRE(cuMemGetInfo_v2);
  CAPANODE_REQUIRE(cuMemAlloc_v2);
  CAPANODE_REQUIRE(cuMemFree_v2);
  CAPANODE_REQUIRE(cuMemHostAlloc);
  CAPANODE_REQUIRE(cuMemFreeHost);
  CAPANODE_REQUIRE(cuMemsetD32Async);
  CAPANODE_REQUIRE(cuMemcpyHtoDAsync_v2);
  CAPANODE_REQUIRE(cuMemcpyDtoHAsync_v2);
  CAPANODE_REQUIRE(cuModuleLoadDataEx);
  CAPANODE_REQUIRE(cuModuleUnload);
  CAPANODE_REQUIRE(cuModuleGetFunction);
  CAPANODE_REQUIRE(cuFuncSetAttribute);
  CAPANODE_REQUIRE(cuLaunchKernel);
  CAPANODE_REQUIRE(cuStreamCreate);
  CAPANODE_REQUIRE(cuStreamDestroy_v2);
  CAPANODE_REQUIRE(cuEventCreate);
  CAPANODE_REQUIRE(cuEventDestroy_v2);
  CAPANODE_REQUIRE(cuEventRecord);
  CAPANODE_REQUIRE(cuEventQuery);
  CAPANODE_REQUIRE(cuEventElapsedTime);
  CAPANODE_OPTIONAL(cuEventElapsedTime_v2);
#undef CAPANODE_REQUIRE
#undef CAPANODE_OPTIONAL
  return missing.empty();
}

}  // namespace

bool loadCudaLibrary(CudaLibrary& out, CudaLoadFailure& failure) {
  std::vector<std::string> paths;
  const char* override = std::getenv("CAPANODE_LIBCUDA");
  if (override != nullptr && override[0] != '\0') {
    paths.emplace_back(override);
  } else {
    for (const char* c : kCandidates) paths.emplace_back(c);
  }
  for (const auto& path : paths) {
    failure.paths.push_back(path);
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* err = dlerror();
      const std::string why = err != nullptr ? err : path + ": cannot be loaded";
      if (why.find("No such file") == std::string::npos) failure.allMissing = false;
      failure.tried.push_back(why);
      continue;
    }
    CudaApi api{};
    std::string missing;
    if (!resolveAll(handle, api, missing)) {
      // A library without the driver API is not a driver; keep looking, remember why.
      failure.incomplete = true;
      failure.allMissing = false;
      failure.missingSymbol = missing;
      failure.tried.push_back(path + ": has no " + missing);
      dlclose(handle);
      continue;
    }
    out.path = path;
    out.handle = handle;
    out.api = api;
    return true;
  }
  return false;
}

std::string cuResultName(const CudaApi& api, CUresult r) {
  const char* name = nullptr;
  if (api.cuGetErrorName != nullptr && api.cuGetErrorName(r, &name) == cu::SUCCESS && name != nullptr) return name;
  return "CUresult " + std::to_string(r);
}

std::string cuResultText(const CudaApi& api, CUresult r) {
  const char* text = nullptr;
  if (api.cuGetErrorString != nullptr && api.cuGetErrorString(r, &text) == cu::SUCCESS && text != nullptr) return text;
  return cuResultName(api, r);
}

}  // namespace capanode
