/*
 * A stand-in for the NVIDIA driver's libcuda.so.1, loaded by the addon through
 * CAPANODE_LIBCUDA in tests. Host memory plays device memory; operations run
 * synchronously at the call. The PoT kernels (pot_gen, pot_gemm_digest) are
 * executed on the CPU from the exact parameters the addon passes, so the
 * addon's host side (launch geometry, parameter order, per-rep ring of
 * digest slots, keep lists, clock samples) is checked end to end against
 * proofs/pot.ts without a GPU. The benchmark kernels do nothing.
 *
 * CAPANODE_FAKE_CUDA (read at every call) picks a failure:
 *   ok (default) | no-device | driver-mismatch | stub-library | init-unknown |
 *   old-driver | ptx-too-new | oom | hang | zero-devices
 * CAPANODE_FAKE_CUDA_CC: compute capability "9.0" (default), "8.6", "7.5", "6.1"...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

enum {
  OK = 0,
  INVALID_VALUE = 1,
  OUT_OF_MEMORY = 2,
  STUB_LIBRARY = 34,
  SYSTEM_DRIVER_MISMATCH = 803,
  NO_DEVICE = 100,
  INVALID_DEVICE = 101,
  UNSUPPORTED_PTX_VERSION = 222,
  NOT_FOUND = 500,
  NOT_READY = 600,
  UNKNOWN = 999,
};

static const char* mode(void) {
  const char* m = getenv("CAPANODE_FAKE_CUDA");
  return m == NULL || m[0] == '\0' ? "ok" : m;
}
static int is(const char* m) { return strcmp(mode(), m) == 0; }

static void cc(int* major, int* minor) {
  const char* v = getenv("CAPANODE_FAKE_CUDA_CC");
  *major = 9;
  *minor = 0;
  if (v != NULL) sscanf(v, "%d.%d", major, minor);
}

static int device_count(void) { return is("zero-devices") ? 0 : 1; }

/* ---- driver, errors, devices ------------------------------------------ */

CUresult cuInit(unsigned flags) {
  (void)flags;
  if (is("no-device")) return NO_DEVICE;
  if (is("driver-mismatch")) return SYSTEM_DRIVER_MISMATCH;
  if (is("stub-library")) return STUB_LIBRARY;
  if (is("init-unknown")) return UNKNOWN;
  return OK;
}

CUresult cuDriverGetVersion(int* v) {
  *v = is("old-driver") ? 10020 : 12040;
  return OK;
}

static const char* name_of(CUresult r) {
  switch (r) {
    case OK: return "CUDA_SUCCESS";
    case INVALID_VALUE: return "CUDA_ERROR_INVALID_VALUE";
    case OUT_OF_MEMORY: return "CUDA_ERROR_OUT_OF_MEMORY";
    case STUB_LIBRARY: return "CUDA_ERROR_STUB_LIBRARY";
    case SYSTEM_DRIVER_MISMATCH: return "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH";
    case NO_DEVICE: return "CUDA_ERROR_NO_DEVICE";
    case INVALID_DEVICE: return "CUDA_ERROR_INVALID_DEVICE";
    case UNSUPPORTED_PTX_VERSION: return "CUDA_ERROR_UNSUPPORTED_PTX_VERSION";
    case NOT_FOUND: return "CUDA_ERROR_NOT_FOUND";
    case NOT_READY: return "CUDA_ERROR_NOT_READY";
    case UNKNOWN: return "CUDA_ERROR_UNKNOWN";
    default: return NULL;
  }
}

CUresult cuGetErrorName(CUresult r, const char** s) {
  *s = name_of(r);
  return *s == NULL ? INVALID_VALUE : OK;
}

CUresult cuGetErrorString(CUresult r, const char** s) {
  switch (r) {
    case OUT_OF_MEMORY: *s = "out of memory"; return OK;
    case NO_DEVICE: *s = "no CUDA-capable device is detected"; return OK;
    case SYSTEM_DRIVER_MISMATCH: *s = "system has unsupported display driver / cuda driver combination"; return OK;
    case STUB_LIBRARY: *s = "CUDA driver is a stub library"; return OK;
    case UNSUPPORTED_PTX_VERSION: *s = "the provided PTX was compiled with an unsupported toolchain."; return OK;
    default: return cuGetErrorName(r, s);
  }
}

CUresult cuDeviceGetCount(int* n) {
  *n = device_count();
  return OK;
}

CUresult cuDeviceGet(int* dev, int ordinal) {
  if (ordinal < 0 || ordinal >= device_count()) return INVALID_DEVICE;
  *dev = ordinal;
  return OK;
}

CUresult cuDeviceGetName(char* name, int len, int dev) {
  (void)dev;
  snprintf(name, (size_t)len, "%s", "NVIDIA H100 80GB HBM3");
  return OK;
}

CUresult cuDeviceGetAttribute(int* v, int attr, int dev) {
  int major, minor;
  (void)dev;
  cc(&major, &minor);
  switch (attr) {
    case 13: *v = 1980000; return OK;  /* clock rate, kHz */
    case 16: *v = 132; return OK;      /* SMs */
    case 33: *v = 0x3b; return OK;     /* PCI bus */
    case 34: *v = 0; return OK;        /* PCI device */
    case 36: *v = 2619000; return OK;  /* memory clock, kHz */
    case 37: *v = 5120; return OK;     /* bus width */
    case 50: *v = 0; return OK;        /* PCI domain */
    case 75: *v = major; return OK;
    case 76: *v = minor; return OK;
    case 97: *v = major >= 8 ? 232448 : 98304; return OK; /* shared memory opt-in */
    default: return INVALID_VALUE;
  }
}

CUresult cuDeviceTotalMem_v2(size_t* bytes, int dev) {
  (void)dev;
  *bytes = (size_t)85520809984ULL;
  return OK;
}

CUresult cuDeviceGetUuid(char* uuid, int dev) {
  static const unsigned char u[16] = {0x5f, 0x5f, 0xa2, 0xa3, 0x6d, 0x4b, 0x2b, 0x1c, 0x9a, 0x4c, 0x2a, 0x3b, 0xb5, 0xa0, 0xe8, 0xe1};
  (void)dev;
  memcpy(uuid, u, 16);
  return OK;
}

CUresult cuDeviceGetUuid_v2(char* uuid, int dev) { return cuDeviceGetUuid(uuid, dev); }

static int the_context;
CUresult cuDevicePrimaryCtxRetain(void** ctx, int dev) {
  (void)dev;
  *ctx = &the_context;
  return OK;
}
CUresult cuDevicePrimaryCtxRelease_v2(int dev) {
  (void)dev;
  return OK;
}
CUresult cuCtxSetCurrent(void* ctx) { return ctx == &the_context ? OK : INVALID_VALUE; }

/* ---- memory ------------------------------------------------------------ */

CUresult cuMemGetInfo_v2(size_t* freeBytes, size_t* total) {
  *freeBytes = (size_t)16 << 30;
  *total = (size_t)85520809984ULL;
  return OK;
}

CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t bytes) {
  if (is("oom")) return OUT_OF_MEMORY;
  void* m = calloc(1, bytes);
  if (m == NULL) return OUT_OF_MEMORY;
  *p = (CUdeviceptr)(uintptr_t)m;
  return OK;
}
CUresult cuMemFree_v2(CUdeviceptr p) {
  free((void*)(uintptr_t)p);
  return OK;
}
CUresult cuMemHostAlloc(void** p, size_t bytes, unsigned flags) {
  (void)flags;
  *p = calloc(1, bytes);
  return *p == NULL ? OUT_OF_MEMORY : OK;
}
CUresult cuMemFreeHost(void* p) {
  free(p);
  return OK;
}
CUresult cuMemsetD32Async(CUdeviceptr p, unsigned v, size_t count, void* stream) {
  (void)stream;
  uint32_t* d = (uint32_t*)(uintptr_t)p;
  for (size_t i = 0; i < count; ++i) d[i] = v;
  return OK;
}
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t bytes, void* stream) {
  (void)stream;
  memcpy((void*)(uintptr_t)dst, src, bytes);
  return OK;
}
CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t bytes, void* stream) {
  (void)stream;
  memcpy(dst, (const void*)(uintptr_t)src, bytes);
  return OK;
}

/* ---- modules and kernels ---------------------------------------------- */

struct module {
  int mma;
};
struct function {
  char name[64];
  int mma;
  int smem_optin;
};

CUresult cuModuleLoadDataEx(void** mod, const void* image, unsigned n, int* options, void** values) {
  const char* ptx = (const char*)image;
  if (is("ptx-too-new")) {
    for (unsigned k = 0; k < n; ++k) {
      if (options[k] == 5) { /* CU_JIT_ERROR_LOG_BUFFER */
        size_t size = 0;
        for (unsigned s = 0; s < n; ++s)
          if (options[s] == 6) size = (size_t)(uintptr_t)values[s];
        if (size > 0) snprintf((char*)values[k], size, "ptxas application ptx input, line 9; fatal   : Unsupported .version 7.0; current version is '6.4'");
      }
    }
    return UNSUPPORTED_PTX_VERSION;
  }
  /* Only the committed PTX is ever loaded. */
  if (strncmp(ptx, "// Generated by native/kernels/build-ptx.sh", 43) != 0) return 218; /* CUDA_ERROR_INVALID_PTX */
  struct module* m = calloc(1, sizeof *m);
  m->mma = strstr(ptx, "\n.target sm_80") != NULL;
  *mod = m;
  return OK;
}
CUresult cuModuleUnload(void* mod) {
  free(mod);
  return OK;
}
CUresult cuModuleGetFunction(void** fn, void* mod, const char* name) {
  struct function* f = calloc(1, sizeof *f);
  snprintf(f->name, sizeof f->name, "%s", name);
  f->mma = ((struct module*)mod)->mma;
  *fn = f;
  return OK;
}
CUresult cuFuncSetAttribute(void* fn, int attr, int value) {
  if (attr == 8) ((struct function*)fn)->smem_optin = value;
  return OK;
}

static uint32_t lowbias32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

#define P(T, i) (*(T*)params[i])

/* The device matrices hold the operand values as int16 (the fake's stand-in for fp16). */
static CUresult pot_gen(unsigned gx, unsigned gy, unsigned block, void** params) {
  int16_t* out = (int16_t*)(uintptr_t)P(CUdeviceptr, 0);
  uint32_t s = P(uint32_t, 1), n = P(uint32_t, 2), np = P(uint32_t, 3), transposed = P(uint32_t, 4);
  if (block != 256 || gx * block < np || gy != np) return INVALID_VALUE;
  for (uint32_t row = 0; row < np; ++row)
    for (uint32_t col = 0; col < np; ++col) {
      int16_t v = 0;
      if (row < n && col < n) v = transposed ? (int16_t)((int)(lowbias32(s ^ (col * n + row)) % 31u) - 15) : (int16_t)((int)(lowbias32(s ^ (row * n + col)) % 511u) - 255);
      out[(size_t)row * np + col] = v;
    }
  return OK;
}

static CUresult pot_gemm_digest(const struct function* f, unsigned gx, unsigned gy, unsigned block, unsigned smem, void** params) {
  const int16_t* A = (const int16_t*)(uintptr_t)P(CUdeviceptr, 0);
  const int16_t* Bt = (const int16_t*)(uintptr_t)P(CUdeviceptr, 1);
  int n = P(int, 2), np = P(int, 3);
  uint32_t* dig = (uint32_t*)(uintptr_t)P(CUdeviceptr, 4);
  uint32_t k2 = P(uint32_t, 5), k3 = P(uint32_t, 6);
  unsigned long long* clk = (unsigned long long*)(uintptr_t)P(CUdeviceptr, 7);
  if (np % 128 != 0 || np < n || gx != (unsigned)np / 128 || gy != (unsigned)np / 128 || block != 256) return INVALID_VALUE;
  /* The mma.sync kernel needs its 64 KiB of dynamic shared memory, granted beforehand; WMMA uses static memory. */
  if (f->mma ? (smem != 65536 || f->smem_optin < 65536) : smem != 0) return INVALID_VALUE;
  for (int i = 0; i < n; ++i) {
    uint32_t d1 = 0, d2 = 0;
    for (int j = 0; j < n; ++j) {
      int32_t c = 0;
      for (int k = 0; k < np; ++k) c += (int32_t)A[(size_t)i * np + k] * (int32_t)Bt[(size_t)j * np + k];
      d1 += lowbias32(((uint32_t)c ^ k2) + (uint32_t)j * 0x9E3779B9u);
      d2 += lowbias32(((uint32_t)c ^ k3) + (uint32_t)j * 0x85EBCA6Bu);
    }
    dig[2 * i] += d1;
    dig[2 * i + 1] += d2;
  }
  if (clk != NULL) { /* one sampled block: 1980 cycles per microsecond */
    clk[0] += 1980000;
    clk[1] += 1000000;
  }
  return OK;
}

CUresult cuLaunchKernel(void* fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned smem, void* stream, void** params,
                        void** extra) {
  const struct function* f = (const struct function*)fn;
  (void)stream;
  if (gz != 1 || by != 1 || bz != 1 || extra != NULL || gx == 0 || gy == 0) return INVALID_VALUE;
  if (strcmp(f->name, "pot_gen") == 0) return pot_gen(gx, gy, bx, params);
  if (strcmp(f->name, "pot_gemm_digest") == 0) return pot_gemm_digest(f, gx, gy, bx, smem, params);
  return OK;
}

/* ---- streams and events ----------------------------------------------- */

static int the_stream;
CUresult cuStreamCreate(void** s, unsigned flags) {
  (void)flags;
  *s = &the_stream;
  return OK;
}
CUresult cuStreamDestroy_v2(void* s) {
  (void)s;
  return OK;
}

struct event {
  double ms;
};
static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}
CUresult cuEventCreate(void** e, unsigned flags) {
  (void)flags;
  *e = calloc(1, sizeof(struct event));
  return OK;
}
CUresult cuEventDestroy_v2(void* e) {
  free(e);
  return OK;
}
CUresult cuEventRecord(void* e, void* stream) {
  (void)stream;
  ((struct event*)e)->ms = now_ms();
  return OK;
}
CUresult cuEventQuery(void* e) {
  (void)e;
  return is("hang") ? NOT_READY : OK;
}
CUresult cuEventElapsedTime(float* ms, void* a, void* b) {
  *ms = (float)(((struct event*)b)->ms - ((struct event*)a)->ms);
  return OK;
}
