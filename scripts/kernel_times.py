#!/usr/bin/env python3
"""Per-kernel times of a compiled program on the GPU (no MLIR needed).

    python3 scripts/kernel_times.py <manifest.json> [--backward] [--iterations 20]

Loads the manifest (with --backward, the backward program a training
manifest holds), makes random inputs of its shapes, runs every kernel alone
`iterations` times after a warm-up and prints each kernel's median time (CUDA
events), its grid and shared memory: where a program's time goes.
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import torch  # noqa: E402

from fftconv import dtypes, gpu, runtime  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest")
    parser.add_argument("--backward", action="store_true", help="the training manifest's backward program")
    parser.add_argument("--iterations", type=int, default=20)
    args = parser.parse_args()
    program = (gpu.load_backward(args.manifest) if args.backward
               else runtime.Program.load(manifest=args.manifest))
    inputs = []
    for argument in program.inputs:
        dtype = dtypes.torch_dtype(argument.dtype)
        inputs.append(torch.randn(argument.shape, device="cuda").to(dtype))
    program.launch(inputs)  # allocates the workspaces, fills the spectra
    torch.cuda.synchronize()
    total = 0.0
    kernels = program.manifest.kernels
    for kernel in kernels:
        times = []
        for _ in range(args.iterations + 3):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            program.launch(inputs, kernels=[kernel.index])
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        median = statistics.median(times[3:])
        total += median
        print(f"{median:9.3f} ms  {kernel.name}  grid {tuple(kernel.grid)} block {tuple(kernel.block)} "
              f"shared {kernel.shared_bytes}")
    print(f"{total:9.3f} ms  total of {len(kernels)} kernels")


if __name__ == "__main__":
    sys.exit(main())
