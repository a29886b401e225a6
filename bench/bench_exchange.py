#!/usr/bin/env python3
"""The sharded program's exchanges alone, out of place and in place.

Over NCCL on every GPU of the host: what the compiler's choice of K's
exchange weighs (ShardedChunking in CostModel.h).

    torchrun --nproc_per_node=4 bench/bench_exchange.py [--mib 64 512]

Per buffer size (MiB a rank): CUDA-event medians of all_to_all_single
between two buffers, of fftconv.distributed.exchange_in_place with pieces
of 128 MiB and of 512 MiB, and of all_to_all_single followed by a copy back
(the in-place exchange's least cost), with the bandwidth each gives a rank
((R - 1) / R of the buffer sent). Prints a markdown table on rank 0.
"""

import argparse
import os
import sys

import torch
import torch.distributed as dist

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(BENCH), "python"))
sys.path.insert(0, BENCH)

from bench_distributed import timed  # noqa: E402
from fftconv import distributed  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, nargs="+", default=[64, 512])
    args = parser.parse_args()
    dist.init_process_group("nccl")
    rank, ranks = dist.get_rank(), dist.get_world_size()
    torch.cuda.set_device(rank % torch.cuda.device_count())
    rows = []
    for mib in args.mib:
        buffer = torch.randn(ranks, mib * 2**20 // 4 // ranks, device="cuda")
        other = torch.empty_like(buffer)

        def copied_back():
            dist.all_to_all_single(other, buffer)
            buffer.copy_(other)

        cases = [("all_to_all_single, two buffers", lambda: dist.all_to_all_single(other, buffer))]
        for piece in (128, 512):
            cases.append((f"in place, pieces of {piece} MiB",
                          lambda piece=piece: distributed.exchange_in_place(buffer, piece_bytes=piece << 20)))
        cases.append(("all_to_all_single, then a copy back", copied_back))
        for name, fn in cases:
            ms = timed(fn, repeats=8, group=None)
            rows.append((mib, name, ms, mib * 2**20 * (ranks - 1) / ranks / (ms * 1e-3) / 1e9))
    if rank == 0:
        print(f"# Exchanges alone, {ranks} x {torch.cuda.get_device_name()}\n")
        print("| MiB a rank | exchange | ms | GB/s a rank |\n|---|---|---|---|")
        for mib, name, ms, gbps in rows:
            print(f"| {mib} | {name} | {ms:.3f} | {gbps:.0f} |")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
