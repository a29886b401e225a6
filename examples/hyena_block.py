#!/usr/bin/env python3
"""The bundled example: a Hyena-style gated causal long convolution.

    y = x2 * ((x1 * v) (*) k + D * (x1 * v))

with B x H x L sequences in f16, a kernel per channel as long as the
sequence, and Hyena's skip term D. The program goes through the compiler's
pipeline (fftconv-to-butterfly: expansion into FFT form, order-p Monarch
decomposition, fusion into kernel regions), is lowered by fftconv-to-cpu,
JIT-compiled and run in this process by MLIR's ExecutionEngine, and compared
with the float64 numpy oracle.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

from fftconv import cpu  # noqa: E402
from fftconv import reference as ref  # noqa: E402


def main():
    batch, channels, length = 2, 8, 1024
    dtype = "f16"
    rng = np.random.default_rng(2024)
    v = ref.round_to(rng.standard_normal((batch, channels, length)), dtype)
    x1 = ref.round_to(rng.standard_normal((batch, channels, length)), dtype)
    x2 = ref.round_to(rng.standard_normal((batch, channels, length)), dtype)
    # A decaying kernel, as Hyena's implicit filters produce.
    decay = np.exp(-np.arange(length) / 128.0)
    k = ref.round_to(rng.standard_normal((channels, length)) * decay / 8, "f32")
    d = ref.round_to(rng.standard_normal(channels), "f32")

    prog = cpu.conv_program(dtype, "causal", v, k, pregate=x1, postgate=x2, skip=d)
    print("program: fftconv.conv causal %v, %k pregate %x1 postgate %x2 skip %D : "
          f"({dtype} {batch}x{channels}x{length}, kernel f32 {channels}x{length})")
    # The compiler's pipeline: conv -> FFT form -> order-p Monarch (cost
    # model's choice) -> fused kernel regions; then the CPU lowering.
    (result,) = prog.run(extra_passes=[cpu.butterfly_pipeline()])

    expected = ref.conv(v, k, "causal", pregate=x1, postgate=x2, skip=d)
    err = ref.relative_error(result, expected)
    print(f"B={batch} H={channels} L={length} {dtype}: relative error vs float64 numpy = {err:.3e}")
    # The f16 result carries its own rounding (2^-11 relative): anything far
    # beyond it is a wrong answer.
    if not err <= 1e-3:
        print("FAILED: error above the f16 bound 1e-3")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
