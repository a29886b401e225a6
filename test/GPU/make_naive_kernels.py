"""Writes a kernel directory of NAIVE reference kernels, in the format of
scripts/build_gpu_kernels.py, to check the harness (the runtimes, the GPU
tests, the sanitizer script and the benchmark) without the compiler:

    python3 test/GPU/make_naive_kernels.py --out build/naive-kernels
    FFTCONV_GPU_KERNELS=build/naive-kernels python3 -m pytest -s test/GPU

Each configuration is two CUDA C kernels compiled to PTX with nvcc: one
writes the workspace (k zero-padded to N per channel; depends on k), one
computes every output element as a direct sum over the K taps in float32
(O(B H L K): slow, and not what the compiler emits). The manifests follow
docs/gpu-manifest.md, with the inputs named and ordered as the GPU tests
expect. --broken writes, instead, configurations with planted bugs (an
unwritten element, a missing tap, a write past the end of the output), which
the tests (and compute-sanitizer's memcheck) must fail.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

SOURCE = r"""
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#if DTYPE_BF16
typedef __nv_bfloat16 T;
__device__ __forceinline__ float load(T x) { return __bfloat162float(x); }
__device__ __forceinline__ T store(float x) { return __float2bfloat16_rn(x); }
#else
typedef __half T;
__device__ __forceinline__ float load(T x) { return __half2float(x); }
__device__ __forceinline__ T store(float x) { return __float2half_rn(x); }
#endif

// workspace[h][j] = k[h][j] for j < K, 0 up to N.
extern "C" __global__ void naive_spectrum(const float *__restrict__ k,
                                          float *__restrict__ workspace) {
  const long h = blockIdx.x;
  for (long j = threadIdx.x; j < N; j += blockDim.x)
    workspace[h * N + j] = j < K ? k[h * K + j] : 0.0f;
}

extern "C" __global__ void naive_conv(const T *__restrict__ u,
#if GATED
                                      const T *__restrict__ pregate,
                                      const T *__restrict__ postgate,
#endif
                                      const float *__restrict__ workspace,
#if SKIP
                                      const float *__restrict__ skip,
#endif
                                      T *__restrict__ y) {
  const long t = (long)blockIdx.x * blockDim.x + threadIdx.x;
  const long h = blockIdx.y, b = blockIdx.z;
  if (t >= L)
    return;
#if BROKEN_UNWRITTEN
  if (b == 0 && h == 0 && t == L - 1)
    return;
#endif
  const long row = (b * H + h) * L;
  const float *taps = workspace + h * N;
  float acc = 0.0f;
  for (long s = 0; s < K; ++s) {
    long source = t - s;
    if (source < 0) {
#if CIRCULAR
      source += L;
#else
      break;
#endif
    }
#if BROKEN_TAP
    if (s == 1)
      continue;
#endif
    float v = load(u[row + source]);
#if GATED
    v *= load(pregate[row + source]);
#endif
    acc += taps[s] * v;
  }
  float v = load(u[row + t]);
#if GATED
  v *= load(pregate[row + t]);
#endif
#if SKIP
  acc += skip[h] * v;
#endif
#if GATED
  acc *= load(postgate[row + t]);
#endif
  y[row + t] = store(acc);
#if BROKEN_OOB
  if (b == B - 1 && h == H - 1 && t == L - 1)
    y[row + t + 1] = store(acc); // one element past the end
#endif
}
"""

# (name, N, B, H, L, K, dtype, mode, gated, skip, bench)
CONFIGS = [
    ("n2048_f16_causal", 2048, 2, 8, 1024, 1024, "f16", "causal", False, False, False),
    ("n1024_bf16_gated_circular_skip", 1024, 2, 8, 1024, 1024, "bf16", "circular", True, True, False),
    ("n512_f16_gated_causal_skip_partial", 512, 3, 4, 256, 64, "f16", "causal", True, True, False),
    ("n256_f16_gated_circular", 256, 4, 8, 256, 256, "f16", "circular", True, False, False),
    ("n2048_bf16_causal_skip", 2048, 2, 4, 1024, 1024, "bf16", "causal", False, True, False),
    ("n1024_f16_causal_bench", 1024, 8, 96, 512, 512, "f16", "causal", False, False, True),
    ("n1024_bf16_gated_circular_bench", 1024, 8, 96, 1024, 1024, "bf16", "circular", True, False, True),
]

BROKEN = [
    ("broken_unwritten", 512, 2, 4, 256, 256, "f16", "causal", False, False, False, "BROKEN_UNWRITTEN"),
    ("broken_tap", 512, 2, 4, 256, 256, "f16", "causal", True, True, False, "BROKEN_TAP"),
    ("broken_oob", 512, 2, 4, 256, 256, "f16", "causal", False, False, False, "BROKEN_OOB"),
]


def write_config(out, nvcc, arch, name, N, B, H, L, K, dtype, mode, gated, skip, bench, broken=None):
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    source = os.path.join(folder, "naive.cu")
    with open(source, "w") as f:
        f.write(SOURCE)
    defines = {
        "N": N, "B": B, "H": H, "L": L, "K": K,
        "DTYPE_BF16": int(dtype == "bf16"), "CIRCULAR": int(mode == "circular"),
        "GATED": int(gated), "SKIP": int(skip),
    }
    if broken:
        defines[broken] = 1
    command = [nvcc, "-ptx", f"-arch={arch}", "-O3", "-o", os.path.join(folder, "kernel.ptx"), source]
    command += [f"-D{key}={value}" for key, value in defines.items()]
    subprocess.run(command, check=True)
    os.remove(source)

    args = [{"name": "u", "role": "input", "dtype": dtype, "shape": [B, H, L]},
            {"name": "k", "role": "input", "dtype": "f32", "shape": [H, K]}]
    if gated:
        args += [{"name": "pregate", "role": "input", "dtype": dtype, "shape": [B, H, L]},
                 {"name": "postgate", "role": "input", "dtype": dtype, "shape": [B, H, L]}]
    if skip:
        args += [{"name": "skip", "role": "input", "dtype": "f32", "shape": [H]}]
    result = len(args)
    args.append({"name": "result0", "role": "output", "dtype": dtype, "shape": [B, H, L]})
    workspace = len(args)
    args.append({"name": "workspace0", "role": "workspace", "dtype": "f32", "shape": [H, N],
                 "depends_on": [1], "producer": 0})
    conv_args = [0] + ([2, 3] if gated else []) + [workspace] + ([result - 1] if skip else []) + [result]
    manifest = {
        "format": "fftconv-manifest", "version": 1, "chip": arch.replace("compute_", "sm_"),
        "ptx": "kernel.ptx", "entry": "naive", "arguments": args,
        "kernels": [
            {"name": "naive_spectrum", "grid": [H, 1, 1], "block": [256, 1, 1], "shared_bytes": 0,
             "arguments": [1, workspace]},
            {"name": "naive_conv", "grid": [(L + 127) // 128, H, B], "block": [128, 1, 1], "shared_bytes": 0,
             "arguments": conv_args},
        ],
    }
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    config = {"N": N, "B": B, "H": H, "L": L, "K": K, "dtype": dtype, "mode": mode, "gated": gated,
              "skip": skip, "bench": bench, "naive": True}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    print(f"wrote {folder}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--nvcc", default=shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc")
    parser.add_argument("--arch", default="compute_80", help="virtual architecture of the PTX (default compute_80)")
    parser.add_argument("--broken", action="store_true", help="write configurations with planted bugs instead")
    args = parser.parse_args()
    if not os.path.exists(args.nvcc):
        sys.exit(f"make_naive_kernels: nvcc not found ({args.nvcc}); pass --nvcc")
    if args.broken:
        for entry in BROKEN:
            write_config(args.out, args.nvcc, args.arch, *entry[:-1], broken=entry[-1])
    else:
        for entry in CONFIGS:
            write_config(args.out, args.nvcc, args.arch, *entry)


if __name__ == "__main__":
    main()
