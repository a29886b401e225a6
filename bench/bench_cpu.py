#!/usr/bin/env python3
"""The CPU drop-in against torch.fft (issue 14, "the CPU path as a drop-in").

    /usr/bin/python3 bench/bench_cpu.py [--out DIR] [--lengths 1024 ...]

Per length L (causal, FFT size 2L, B = 1, H = 16, f32, no gates):
fftconv.torch.FFTConv on CPU tensors (the compiled program JIT-run in this
process, compiled once before timing) against PyTorch's
irfft(rfft(u, n=2L) * rfft(k, n=2L), n=2L)[..., :L], both computing the
kernel's spectrum in the call, each with this machine's cores (ours:
fftconv-to-cpu{threads}, tasks on MLIR's async runtime; torch: its intra-op
threads). Timing: the median of a block of calls after one warm-up, ours
then torch, in three rounds; each side's best round counts (the machine is
shared: a round another tenant slowed says nothing of either library).
Prints a markdown table and writes cpu-<stamp>.{md,csv} to --out; checks
ours against float64 numpy first (the script exits 1 past 1e-5).
"""

import argparse
import csv
import datetime
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

from fftconv.torch import FFTConv  # noqa: E402

COLUMNS = ["L", "B", "H", "ours_ms", "torch_ms", "ours_over_torch", "rel_err"]
ROUNDS = 3


def median_ms(fn, calls):
    fn()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "bench-cpu"))
    parser.add_argument("--lengths", type=int, nargs="+", default=[1024, 4096, 16384, 65536, 262144, 1048576])
    parser.add_argument("--channels", type=int, default=16)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    rows, failed = [], False
    for length in args.lengths:
        batch, channels = 1, args.channels
        generator = torch.Generator().manual_seed(length)
        u = torch.randn(batch, channels, length, generator=generator)
        k = torch.randn(channels, length, generator=generator) / length ** 0.5
        module = FFTConv(2 * length, torch.float32)
        y = module(u, k)
        n = 2 * length
        ref = np.fft.irfft(np.fft.rfft(u.double().numpy(), n=n) * np.fft.rfft(k.double().numpy(), n=n), n=n)[..., :length]
        err = float(np.linalg.norm(y.double().numpy() - ref) / np.linalg.norm(ref))
        failed |= err > 1e-5
        calls = 11 if length <= 65536 else 3
        ours, theirs = float("inf"), float("inf")
        for _ in range(ROUNDS):
            ours = min(ours, median_ms(lambda: module(u, k), calls))
            theirs = min(theirs, median_ms(lambda: torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(k, n=n), n=n)[..., :length], calls))
        rows.append(dict(L=length, B=batch, H=channels, ours_ms=ours, torch_ms=theirs,
                         ours_over_torch=ours / theirs, rel_err=err))
        print(f"L={length}: ours {ours:.2f} ms, torch.fft {theirs:.2f} ms, ratio {ours / theirs:.1f}, error {err:.1e}", flush=True)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H%M")
    os.makedirs(args.out, exist_ok=True)
    header = ["| L | BxH | ours ms | torch.fft ms | ours/torch | rel err |", "|---|---|---|---|---|---|"]
    lines = [f"| {r['L']} | {r['B']}x{r['H']} | {r['ours_ms']:.2f} | {r['torch_ms']:.2f} | "
             f"{r['ours_over_torch']:.1f} | {r['rel_err']:.1e} |" for r in rows]
    table = "\n".join(header + lines)
    print(table)
    with open(os.path.join(args.out, f"cpu-{stamp}.md"), "w") as f:
        f.write(f"# CPU drop-in against torch.fft, {stamp}\n\n{os.cpu_count()} cores, PyTorch {torch.__version__}\n\n{table}\n")
    with open(os.path.join(args.out, f"cpu-{stamp}.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
