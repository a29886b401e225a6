#!/usr/bin/env python3
"""The decomposition sweep: for every FFT size N = 2^4 ... 2^20 and every
order the cost model accepts at N (f32 data, sm_90), a causal convolution
with K = L = N/2 goes through fftconv-to-butterfly and fftconv-to-cpu, runs
in this process (MLIR's ExecutionEngine) and is compared with the float64
numpy oracle.

    /usr/bin/python3 scripts/decomposition_sweep.py [--max-log2 20] > sweep.md

Prints a markdown table: N, order, factors, relative error, bound.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

from fftconv import cpu  # noqa: E402
from fftconv import reference as ref  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--min-log2", type=int, default=4)
    parser.add_argument("--max-log2", type=int, default=20)
    args = parser.parse_args()
    tables = {p: cpu.cost_table(order=p, complex_bytes=8, max_log2=args.max_log2) for p in (1, 2, 3, 4)}
    rng = np.random.default_rng(7)
    print("| N | order | outer x fused factors | relative error | bound 1e-5 log2 N | seconds |")
    print("|---|---|---|---|---|---|")
    worst = 0.0
    for log2n in range(args.min_log2, args.max_log2 + 1):
        n = 2**log2n
        for order in (1, 2, 3, 4):
            row = tables[order][n]
            if not row["fused factors"]:
                continue
            factors = row["fused factors"] if row["outer passes"] == "-" else f'{row["outer passes"]} x {row["fused factors"]}'
            u = rng.standard_normal((1, 2, n // 2)).astype(np.float32)
            k = rng.standard_normal((2, n // 2)).astype(np.float32)
            start = time.time()
            (y,) = cpu.conv_program("f32", "causal", u, k).run(extra_passes=[cpu.butterfly_pipeline(order=order)])
            err = ref.relative_error(y, ref.conv(u, k, "causal"))
            bound = 1e-5 * log2n
            worst = max(worst, err / bound)
            print(f"| {n} | {order} | {factors} | {err:.2e} | {bound:.1e} | {time.time() - start:.1f} |", flush=True)
    print(f"\nworst error / bound: {worst:.3f}")
    return 0 if worst <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
