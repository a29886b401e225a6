"""Runs one compiled configuration once, for compute-sanitizer:

    compute-sanitizer --tool memcheck python3 test/GPU/sanitize_one.py <config dir>

Loads <config dir>/manifest.json and its PTX with fftconv.runtime, launches
every kernel once on random inputs into a NaN-poisoned output, synchronizes,
and checks that every element is finite and the relative error is within
the dtype's tolerance. Exit status 0 when it is, 1 otherwise.

Set PYTORCH_NO_CUDA_MEMORY_CACHING=1 and pass memcheck --padding 1024
(scripts/gpu_check.sh does both), so that every tensor is its own allocation
with unallocated memory after it: otherwise a write past the end of a
buffer lands in a neighbouring allocation and memcheck does not see it.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

import torch  # noqa: E402

from fftconv import kernel_configs  # noqa: E402
from fftconv.runtime import Program  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config_dir", help="a configuration folder (config.json, manifest.json, kernel.ptx)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--launches", type=int, default=1, help="launches (default 1)")
    args = parser.parse_args()

    config = kernel_configs.load_config(args.config_dir)
    program = Program.from_dir(config.path)
    inputs = kernel_configs.make_inputs(config, args.seed, program.device)
    out = kernel_configs.poisoned_output(config, program.device)
    for _ in range(args.launches):
        program.launch(inputs, outputs=out)
    torch.cuda.synchronize()
    finite = bool(torch.isfinite(out).all())
    error = kernel_configs.relative_error(config, inputs, out) if finite else float("nan")
    ok = finite and error <= config.tolerance
    print(f"{config.name}: {'ok' if ok else 'FAILED'}: all finite: {finite}, relative error {error:.3e} "
          f"(tolerance {config.tolerance:.0e})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
