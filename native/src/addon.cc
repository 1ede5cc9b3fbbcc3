// Node-API surface of the addon. Every GPU call and every CPU PoT run is an
// AsyncWorker returning a promise: the arguments are copied into a plain
// "baton" on the main thread, Execute() runs on a worker thread and touches
// no JS, OnOK() settles the promise. Failures reach JS as an Error carrying
// {kind, reason, call, cuResult, cuResultCode, log}; native/index.ts maps them.
#include <napi.h>

#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "cpu_bench.h"
#include "gpu.h"
#include "gpu_bench.h"
#include "native_error.h"
#include "pot_cpu.h"
#include "pot_run.h"
#include "sd_notify.h"

namespace capanode {

namespace {

Napi::Error toJsError(Napi::Env env, const NativeError& e) {
  Napi::Error err = Napi::Error::New(env, e.message);
  Napi::Object o = err.Value();
  o.Set("kind", e.kind);
  o.Set("reason", e.reason);
  if (!e.call.empty()) {
    o.Set("call", e.call);
    o.Set("cuResult", e.cuResultName);
    o.Set("cuResultCode", Napi::Number::New(env, e.cuResult));
  }
  if (!e.log.empty()) o.Set("log", e.log);
  return err;
}

NativeError internalError(const std::string& what) {
  NativeError e;
  e.kind = "failed";
  e.reason = "internal";
  e.message = what;
  return e;
}

/** Runs Baton::run() off the event loop; resolves with Baton::result(env) or rejects with the NativeError. */
template <typename Baton>
class Worker : public Napi::AsyncWorker {
 public:
  Worker(Napi::Env env, Baton baton) : Napi::AsyncWorker(env, "capanode-native"), deferred_(Napi::Promise::Deferred::New(env)), baton_(std::move(baton)) {}

  static Napi::Promise start(Napi::Env env, Baton baton) {
    auto* w = new Worker(env, std::move(baton));  // deleted by Node-API once settled
    Napi::Promise p = w->deferred_.Promise();
    w->Queue();
    return p;
  }

  void Execute() override {
    try {
      baton_.run();
    } catch (const NativeFailure& f) {
      error_ = f.error;
    } catch (const std::bad_alloc&) {
      NativeError e = internalError("out of host memory");
      e.reason = "out-of-memory";
      error_ = e;
    } catch (const std::exception& ex) {
      error_ = internalError(ex.what());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (error_) {
      deferred_.Reject(toJsError(env, *error_).Value());
      return;
    }
    try {
      deferred_.Resolve(baton_.result(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Baton baton_;
  std::optional<NativeError> error_;
};

// ---------------------------------------------------------------------------
// Argument parsing (main thread). Bad arguments are programming errors of
// native/index.ts, which validates user input first: TypeError.

[[noreturn]] void typeError(Napi::Env env, const std::string& what) { throw Napi::TypeError::New(env, "capanode native: " + what); }

uint32_t u32Arg(const Napi::CallbackInfo& info, size_t i, const char* name, uint32_t lo, uint32_t hi) {
  if (i >= info.Length() || !info[i].IsNumber()) typeError(info.Env(), std::string(name) + " must be a number");
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= lo && v <= hi) || v != static_cast<double>(static_cast<uint32_t>(v))) {
    typeError(info.Env(), std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return static_cast<uint32_t>(v);
}

double msArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) typeError(info.Env(), "timeoutMs must be a number");
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v > 0 && v <= 86400000)) typeError(info.Env(), "timeoutMs must be in (0, 86400000]");
  return v;
}

std::vector<uint32_t> u32ArrayArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    typeError(info.Env(), std::string(name) + " must be a Uint32Array");
  }
  auto a = info[i].As<Napi::Uint32Array>();
  return std::vector<uint32_t>(a.Data(), a.Data() + a.ElementLength());
}

PotKeys keysArg(const Napi::CallbackInfo& info, size_t i) {
  const auto k = u32ArrayArg(info, i, "keys");
  if (k.size() != 4) typeError(info.Env(), "keys must hold k0..k3");
  return PotKeys{k[0], k[1], k[2], k[3]};
}

constexpr uint32_t kMaxRep = 0x7fffffffu;  // (r << 1) | m must fit a u32

// reps: a count (0..count-1) or a Uint32Array of rep indices; keep: a Uint32Array subset.
PotRequest potArgs(const Napi::CallbackInfo& info, size_t keysAt) {
  PotRequest req;
  req.keys = keysArg(info, keysAt);
  req.n = u32Arg(info, keysAt + 1, "n", 1, kPotCpuMaxN);
  if (info.Length() > keysAt + 2 && info[keysAt + 2].IsNumber()) {
    const uint32_t count = u32Arg(info, keysAt + 2, "reps", 1, kMaxRep);
    req.reps.resize(count);
    for (uint32_t r = 0; r < count; ++r) req.reps[r] = r;
  } else {
    req.reps = u32ArrayArg(info, keysAt + 2, "reps");
    if (req.reps.empty()) typeError(info.Env(), "reps must not be empty");
  }
  req.keep = u32ArrayArg(info, keysAt + 3, "keep");
  std::unordered_set<uint32_t> listed;
  for (uint32_t r : req.reps) {
    if (r > kMaxRep) typeError(info.Env(), "rep indices must be below 2^31");
    listed.insert(r);
  }
  for (uint32_t r : req.keep) {
    if (listed.count(r) == 0) typeError(info.Env(), "keep must list only computed reps");
  }
  return req;
}

Napi::Object potResult(Napi::Env env, const PotOutcome& o) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("repHashes", Napi::Buffer<uint8_t>::Copy(env, o.repHashes.data(), o.repHashes.size()));
  out.Set("kept", Napi::Buffer<uint8_t>::Copy(env, o.kept.data(), o.kept.size()));
  out.Set("elapsedUs", o.elapsedUs);
  out.Set("wallUs", o.wallUs);
  out.Set("smClockMhz", o.smClockMhz);
  out.Set("kernel", o.kernel);
  return out;
}

// ---------------------------------------------------------------------------
// Batons

struct DevicesBaton {
  std::vector<DeviceInfo> devices;
  DriverInfo driver;
  void run() {
    Gpu& gpu = Gpu::open();
    driver = gpu.info();
    devices = gpu.devices();
  }
  Napi::Value result(Napi::Env env) {
    Napi::Array arr = Napi::Array::New(env, devices.size());
    for (size_t k = 0; k < devices.size(); ++k) {
      const DeviceInfo& d = devices[k];
      Napi::Object o = Napi::Object::New(env);
      o.Set("ordinal", d.ordinal);
      o.Set("name", d.name);
      o.Set("uuid", d.uuid);
      o.Set("pciBusId", d.pciBusId);
      o.Set("computeCapability", std::to_string(d.ccMajor) + "." + std::to_string(d.ccMinor));
      o.Set("totalMemBytes", static_cast<double>(d.totalMemBytes));
      o.Set("smCount", d.smCount);
      o.Set("clockKhz", d.clockKhz);
      o.Set("memClockKhz", d.memClockKhz);
      o.Set("busWidthBits", d.busWidthBits);
      arr.Set(static_cast<uint32_t>(k), o);
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("driverPath", driver.path);
    out.Set("driverVersion", driver.version);
    out.Set("devices", arr);
    return out;
  }
};

struct BenchBaton {
  int ordinal;
  bool quick;
  double timeoutMs;
  GpuBenchResult r;
  void run() { r = gpuBench(ordinal, quick, timeoutMs); }
  Napi::Value result(Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("memBwMBps", r.memBwMBps);
    o.Set("fp32Gflops", r.fp32Gflops);
    o.Set("tensorGflops", r.tensorGflops);
    o.Set("h2dMBps", r.h2dMBps);
    o.Set("d2hMBps", r.d2hMBps);
    o.Set("fp32SmClockMhz", r.fp32SmClockMhz);
    o.Set("tensorSmClockMhz", r.tensorSmClockMhz);
    o.Set("tensorKernel", r.tensorKernel);
    o.Set("gemmN", r.gemmN);
    o.Set("memBytes", r.memBytes);
    o.Set("copyBytes", r.copyBytes);
    return o;
  }
};

struct CpuBenchBaton {
  bool quick;
  unsigned threads;
  CpuBenchResult r;
  void run() { r = cpuBench(quick, threads); }
  Napi::Value result(Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("memBwMBps", r.memBwMBps);
    o.Set("fp32Gflops", r.fp32Gflops);
    o.Set("isa", r.isa);
    o.Set("threads", r.threads);
    return o;
  }
};

struct GpuPotBaton {
  int ordinal;
  PotRequest req;
  PotOutcome out;
  void run() { out = gpuPotRun(ordinal, req); }
  Napi::Value result(Napi::Env env) { return potResult(env, out); }
};

struct CpuPotBaton {
  PotRequest req;
  PotOutcome out;
  void run() { out = cpuPotRun(req); }
  Napi::Value result(Napi::Env env) { return potResult(env, out); }
};

struct VerifyBaton {
  PotKeys keys;
  uint32_t n;
  std::vector<PotRow> rows;
  unsigned threads;
  std::vector<uint32_t> digests;
  void run() {
    const PackedB B(keys, n, threads == 0 ? defaultThreads() : threads);
    digests.assign(rows.size() * 2, 0);
    potRowDigests(keys, B, rows.data(), rows.size(), digests.data(), threads);
  }
  Napi::Value result(Napi::Env env) { return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(digests.data()), digests.size() * 4); }
};

VerifyBaton verifyArgs(const Napi::CallbackInfo& info) {
  VerifyBaton b;
  b.keys = keysArg(info, 0);
  b.n = u32Arg(info, 1, "n", 1, kPotCpuMaxN);
  const auto flat = u32ArrayArg(info, 2, "checks");
  if (flat.size() % 2 != 0) typeError(info.Env(), "checks must hold [r, i] pairs");
  for (size_t t = 0; t < flat.size(); t += 2) {
    if (flat[t] > kMaxRep || flat[t + 1] >= b.n) typeError(info.Env(), "every check needs r < 2^31 and i < n");
    b.rows.push_back(PotRow{flat[t], flat[t + 1]});
  }
  b.threads = u32Arg(info, 3, "threads", 0, 1024);
  return b;
}

// ---------------------------------------------------------------------------
// Exports

Napi::Value DevicesFn(const Napi::CallbackInfo& info) { return Worker<DevicesBaton>::start(info.Env(), DevicesBaton{}); }

Napi::Value GpuBenchFn(const Napi::CallbackInfo& info) {
  BenchBaton b{};
  b.ordinal = static_cast<int>(u32Arg(info, 0, "device", 0, 1023));
  if (info.Length() < 2 || !info[1].IsBoolean()) typeError(info.Env(), "quick must be a boolean");
  b.quick = info[1].As<Napi::Boolean>().Value();
  b.timeoutMs = msArg(info, 2);
  return Worker<BenchBaton>::start(info.Env(), std::move(b));
}

Napi::Value CpuBenchFn(const Napi::CallbackInfo& info) {
  CpuBenchBaton b{};
  if (info.Length() < 1 || !info[0].IsBoolean()) typeError(info.Env(), "quick must be a boolean");
  b.quick = info[0].As<Napi::Boolean>().Value();
  b.threads = u32Arg(info, 1, "threads", 0, 1024);
  return Worker<CpuBenchBaton>::start(info.Env(), std::move(b));
}

Napi::Value GpuPotFn(const Napi::CallbackInfo& info) {
  GpuPotBaton b{};
  b.ordinal = static_cast<int>(u32Arg(info, 0, "device", 0, 1023));
  b.req = potArgs(info, 1);
  b.req.timeoutMs = msArg(info, 5);
  return Worker<GpuPotBaton>::start(info.Env(), std::move(b));
}

Napi::Value CpuPotFn(const Napi::CallbackInfo& info) {
  CpuPotBaton b{};
  b.req = potArgs(info, 0);
  b.req.threads = u32Arg(info, 4, "threads", 0, 1024);
  return Worker<CpuPotBaton>::start(info.Env(), std::move(b));
}

Napi::Value CpuVerifyRowsFn(const Napi::CallbackInfo& info) { return Worker<VerifyBaton>::start(info.Env(), verifyArgs(info)); }

Napi::Value CpuVerifyRowsSyncFn(const Napi::CallbackInfo& info) {
  VerifyBaton b = verifyArgs(info);
  b.run();
  return b.result(info.Env());
}

Napi::Value SdNotifyFn(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) typeError(info.Env(), "state must be a string");
  return Napi::Boolean::New(info.Env(), sdNotify(info[0].As<Napi::String>().Utf8Value()));
}

Napi::Value CpuThreadsFn(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), defaultThreads()); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abi", Napi::Number::New(env, 1));
  exports.Set("devices", Napi::Function::New(env, DevicesFn, "devices"));
  exports.Set("gpuBench", Napi::Function::New(env, GpuBenchFn, "gpuBench"));
  exports.Set("gpuPot", Napi::Function::New(env, GpuPotFn, "gpuPot"));
  exports.Set("cpuBench", Napi::Function::New(env, CpuBenchFn, "cpuBench"));
  exports.Set("cpuPot", Napi::Function::New(env, CpuPotFn, "cpuPot"));
  exports.Set("cpuVerifyRows", Napi::Function::New(env, CpuVerifyRowsFn, "cpuVerifyRows"));
  exports.Set("cpuVerifyRowsSync", Napi::Function::New(env, CpuVerifyRowsSyncFn, "cpuVerifyRowsSync"));
  exports.Set("cpuThreads", Napi::Function::New(env, CpuThreadsFn, "cpuThreads"));
  exports.Set("sdNotify", Napi::Function::New(env, SdNotifyFn, "sdNotify"));
  return exports;
}

}  // namespace

}  // namespace capanode

static Napi::Object InitCapanode(Napi::Env env, Napi::Object exports) { return capanode::Init(env, exports); }

NODE_API_MODULE(capanode_native, InitCapanode)
