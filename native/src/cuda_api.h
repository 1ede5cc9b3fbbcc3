// The slice of the CUDA driver API the addon uses, declared here so the
// addon builds without a CUDA toolkit: libcuda is dlopen'ed at run time and
// every entry point resolved by name (the _v2 names where the driver has
// versioned them). Values follow cuda.h; test/native checks them against
// cuda.h when a toolkit is present.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace capanode {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st*;
using CUmodule = struct CUmod_st*;
using CUfunction = struct CUfunc_st*;
using CUstream = struct CUstream_st*;
using CUevent = struct CUevent_st*;
using CUjit_option = int;

struct CUuuid {
  char bytes[16];
};

namespace cu {
constexpr CUresult SUCCESS = 0;
constexpr CUresult ERROR_OUT_OF_MEMORY = 2;
constexpr CUresult ERROR_NOT_INITIALIZED = 3;
constexpr CUresult ERROR_STUB_LIBRARY = 34;
constexpr CUresult ERROR_CALL_REQUIRES_NEWER_DRIVER = 36;
constexpr CUresult ERROR_DEVICE_UNAVAILABLE = 46;
constexpr CUresult ERROR_NO_DEVICE = 100;
constexpr CUresult ERROR_INVALID_DEVICE = 101;
constexpr CUresult ERROR_NO_BINARY_FOR_GPU = 209;
constexpr CUresult ERROR_INVALID_PTX = 218;
constexpr CUresult ERROR_JIT_COMPILER_NOT_FOUND = 221;
constexpr CUresult ERROR_UNSUPPORTED_PTX_VERSION = 222;
constexpr CUresult ERROR_NOT_READY = 600;
constexpr CUresult ERROR_LAUNCH_OUT_OF_RESOURCES = 701;
constexpr CUresult ERROR_LAUNCH_TIMEOUT = 702;
constexpr CUresult ERROR_SYSTEM_NOT_READY = 802;
constexpr CUresult ERROR_SYSTEM_DRIVER_MISMATCH = 803;
constexpr CUresult ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE = 804;

constexpr int ATTR_CLOCK_RATE = 13;
constexpr int ATTR_MULTIPROCESSOR_COUNT = 16;
constexpr int ATTR_PCI_BUS_ID = 33;
constexpr int ATTR_PCI_DEVICE_ID = 34;
constexpr int ATTR_MEMORY_CLOCK_RATE = 36;
constexpr int ATTR_GLOBAL_MEMORY_BUS_WIDTH = 37;
constexpr int ATTR_PCI_DOMAIN_ID = 50;
constexpr int ATTR_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int ATTR_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int ATTR_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;

constexpr int FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;

constexpr CUjit_option JIT_INFO_LOG_BUFFER = 3;
constexpr CUjit_option JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4;
constexpr CUjit_option JIT_ERROR_LOG_BUFFER = 5;
constexpr CUjit_option JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;

constexpr unsigned STREAM_NON_BLOCKING = 0x1;
constexpr unsigned EVENT_DEFAULT = 0x0;
}  // namespace cu

/** Entry points, resolved once per library. Optional ones may be null. */
struct CudaApi {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDriverGetVersion)(int*);
  CUresult (*cuGetErrorName)(CUresult, const char**);
  CUresult (*cuGetErrorString)(CUresult, const char**);
  CUresult (*cuDeviceGetCount)(int*);
  CUresult (*cuDeviceGet)(CUdevice*, int);
  CUresult (*cuDeviceGetName)(char*, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int*, int, CUdevice);
  CUresult (*cuDeviceTotalMem_v2)(size_t*, CUdevice);
  CUresult (*cuDeviceGetUuid)(CUuuid*, CUdevice);
  CUresult (*cuDeviceGetUuid_v2)(CUuuid*, CUdevice);  // optional: CUDA 11.4+
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext*, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease_v2)(CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuMemGetInfo_v2)(size_t*, size_t*);
  CUresult (*cuMemAlloc_v2)(CUdeviceptr*, size_t);
  CUresult (*cuMemFree_v2)(CUdeviceptr);
  CUresult (*cuMemHostAlloc)(void**, size_t, unsigned);
  CUresult (*cuMemFreeHost)(void*);
  CUresult (*cuMemsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
  CUresult (*cuMemcpyHtoDAsync_v2)(CUdeviceptr, const void*, size_t, CUstream);
  CUresult (*cuMemcpyDtoHAsync_v2)(void*, CUdeviceptr, size_t, CUstream);
  CUresult (*cuModuleLoadDataEx)(CUmodule*, const void*, unsigned, CUjit_option*, void**);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction*, CUmodule, const char*);
  CUresult (*cuFuncSetAttribute)(CUfunction, int, int);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, CUstream, void**, void**);
  CUresult (*cuStreamCreate)(CUstream*, unsigned);
  CUresult (*cuStreamDestroy_v2)(CUstream);
  CUresult (*cuEventCreate)(CUevent*, unsigned);
  CUresult (*cuEventDestroy_v2)(CUevent);
  CUresult (*cuEventRecord)(CUevent, CUstream);
  CUresult (*cuEventQuery)(CUevent);
  CUresult (*cuEventElapsedTime)(float*, CUevent, CUevent);
  CUresult (*cuEventElapsedTime_v2)(float*, CUevent, CUevent);  // optional: CUDA 12.8+
};

/** A libcuda that was found and whose entry points all resolved. */
struct CudaLibrary {
  std::string path;
  void* handle = nullptr;
  CudaApi api{};
};

/** Why no usable libcuda was found: each candidate tried, with dlopen's or dlsym's message. */
struct CudaLoadFailure {
  bool incomplete = false;  // a library loaded but lacks an entry point
  bool allMissing = true;   // no candidate exists at all (the usual case on a machine without the driver)
  std::string missingSymbol;
  std::vector<std::string> paths;  // every path tried
  std::vector<std::string> tried;  // what dlopen or dlsym said, per path
};

/**
 * Finds libcuda: $CAPANODE_LIBCUDA alone when set, otherwise libcuda.so.1
 * through the loader's search path, then the usual driver locations. Returns
 * false and fills `failure` when none loads with every entry point.
 */
bool loadCudaLibrary(CudaLibrary& out, CudaLoadFailure& failure);

/** The name of a CUresult ("CUDA_ERROR_NO_DEVICE"), from the driver, or a number when it has none. */
std::string cuResultName(const CudaApi& api, CUresult r);
std::string cuResultText(const CudaApi& api, CUresult r);

}  // namespace capanode
