// The one error type native code raises. It crosses to JS as an Error with
// these fields; native/index.ts turns it into a CapanodeError
// ('native-unavailable' / 'native-failed') with a hint for each reason.
#pragma once

#include <exception>
#include <string>

#include "cuda_api.h"

namespace capanode {

struct NativeError {
  /** "unavailable": no usable driver or device; "failed": a run went wrong. */
  std::string kind;
  /** A stable reason: driver-not-found, no-device, ptx-unsupported, out-of-memory, timeout, ... */
  std::string reason;
  std::string message;
  /** The driver call that failed ("" when none did). */
  std::string call;
  CUresult cuResult = 0;
  std::string cuResultName;
  /** The JIT compiler's log, for module loads. */
  std::string log;
};

class NativeFailure : public std::exception {
 public:
  explicit NativeFailure(NativeError e) : error(std::move(e)) {}
  const char* what() const noexcept override { return error.message.c_str(); }
  NativeError error;
};

[[noreturn]] inline void fail(std::string kind, std::string reason, std::string message) {
  NativeError e;
  e.kind = std::move(kind);
  e.reason = std::move(reason);
  e.message = std::move(message);
  throw NativeFailure(std::move(e));
}

/** The kind and reason a failed driver call maps to. */
inline void classify(CUresult r, std::string& kind, std::string& reason) {
  kind = "unavailable";
  switch (r) {
    case cu::ERROR_CALL_REQUIRES_NEWER_DRIVER:
    case cu::ERROR_SYSTEM_DRIVER_MISMATCH:
    case cu::ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE:
      reason = "insufficient-driver";
      return;
    case cu::ERROR_NO_DEVICE:
      reason = "no-device";
      return;
    case cu::ERROR_INVALID_DEVICE:
      reason = "bad-device";
      return;
    case cu::ERROR_DEVICE_UNAVAILABLE:
      reason = "device-unavailable";
      return;
    case cu::ERROR_STUB_LIBRARY:
      reason = "driver-not-found";
      return;
    case cu::ERROR_NOT_INITIALIZED:
    case cu::ERROR_SYSTEM_NOT_READY:
      reason = "driver-init-failed";
      return;
    case cu::ERROR_NO_BINARY_FOR_GPU:
    case cu::ERROR_INVALID_PTX:
    case cu::ERROR_JIT_COMPILER_NOT_FOUND:
    case cu::ERROR_UNSUPPORTED_PTX_VERSION:
      reason = "ptx-unsupported";
      return;
    default:
      break;
  }
  kind = "failed";
  if (r == cu::ERROR_OUT_OF_MEMORY) {
    reason = "out-of-memory";
  } else if (r == cu::ERROR_LAUNCH_TIMEOUT) {
    reason = "timeout";
  } else if (r >= 700 && r < 800) {
    reason = "launch-failed";
  } else {
    reason = "driver-error";
  }
}

/** Throws the NativeFailure for driver call `call` returning r, naming file:line. */
[[noreturn]] inline void failCall(const CudaApi& api, const char* call, CUresult r, const char* file, int line, std::string log = {}) {
  NativeError e;
  classify(r, e.kind, e.reason);
  e.call = call;
  e.cuResult = r;
  e.cuResultName = cuResultName(api, r);
  std::string base = file;
  const auto slash = base.find_last_of('/');
  if (slash != std::string::npos) base = base.substr(slash + 1);
  e.message = std::string(call) + " failed: " + e.cuResultName + " (" + cuResultText(api, r) + ") at " + base + ":" + std::to_string(line);
  e.log = std::move(log);
  throw NativeFailure(std::move(e));
}

}  // namespace capanode

/** Calls a driver entry point through `api` and throws a NativeFailure naming it when it fails. */
#define CU_TRY(api, fn, ...)                                                    \
  do {                                                                          \
    const ::capanode::CUresult cu_try_r_ = (api).fn(__VA_ARGS__);               \
    if (cu_try_r_ != 0) ::capanode::failCall((api), #fn, cu_try_r_, __FILE__, __LINE__); \
  } while (0)
