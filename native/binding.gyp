{
  "targets": [
    {
      "target_name": "capanode_native",
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "sources": [
        "src/addon.cc",
        "src/cpu_bench.cc",
        "src/cuda_api.cc",
        "src/gpu.cc",
        "src/gpu_bench.cc",
        "src/gpu_pot.cc",
        "src/pot_cpu.cc",
        "src/pot_run_cpu.cc",
        "src/rep_hash.cc",
        "src/sd_notify.cc",
        "<(INTERMEDIATE_DIR)/ptx_data.cc"
      ],
      "include_dirs": ["src"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-O3", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20", "-std=c++20"],
      "libraries": ["-ldl", "-lpthread"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O3"]
      },
      "actions": [
        {
          "action_name": "embed_ptx",
          "inputs": ["kernels/embed_ptx.py", "kernels/bench.ptx", "kernels/pot_mma.ptx", "kernels/pot_wmma.ptx"],
          "outputs": ["<(INTERMEDIATE_DIR)/ptx_data.cc"],
          "action": [
            "python3", "kernels/embed_ptx.py", "<(INTERMEDIATE_DIR)/ptx_data.cc",
            "kPtxBench=kernels/bench.ptx",
            "kPtxPotMma=kernels/pot_mma.ptx",
            "kPtxPotWmma=kernels/pot_wmma.ptx"
          ]
        }
      ]
    }
  ]
}
