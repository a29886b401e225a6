#!/usr/bin/env python3
"""Compile the GPU test and benchmark configurations to PTX + manifests.

    python3 scripts/build_gpu_kernels.py --out build/gpu-kernels [--chip sm_90]

Writes <out>/<config>/{kernel.ptx, manifest.json, config.json} for every
configuration (config.json describes it: N, B, H, L, K, dtype, mode, gated,
skip, and "bench" for the benchmark's sizes). The GPU machine has no MLIR:
compile here, carry the folder there (test/GPU/README.md).
"""

import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "python"))
TYPES = {"f16": "f16", "bf16": "bf16"}

# FFT sizes of the single-kernel form (to 32K on sm_90) and of the three-pass
# form (64K to 4M); the benchmark's batch sizes follow design.md's table
# (fewer sequences past 8K).
CHECK_SIZES = [256, 512, 1024, 2048, 4096, 8192, 16384, 32768,
               65536, 131072, 262144, 524288, 1048576, 2097152, 4194304]
BENCH_BH = {256: (64, 768), 1024: (64, 768), 4096: (64, 768), 8192: (64, 768),
            16384: (32, 768), 32768: (16, 768), 65536: (8, 768),
            1048576: (8, 48)}


def check_batch(n):
    """B, H of the correctness configurations: an odd batch (the three-pass
    form pairs batch elements), fewer channels for the largest sizes."""
    return (3, 4) if n <= 1048576 else (3, 2)


def graph(cfg):
    """The function @conv of one configuration (fftconv.graph.Graph, built
    through the bindings); its arguments carry the manifest's names (u, k,
    pregate, postgate, skip)."""
    from fftconv.graph import Graph

    b, h, l, k, t = cfg["B"], cfg["H"], cfg["L"], cfg["K"], cfg["dtype"]
    g = Graph("conv")
    u = g.input("u", (b, h, l), t)
    kernel = g.input("k", (h, k), "f32")
    if cfg.get("band") is not None:
        # Frequency-sparse, in FFT form (f32, circular of period N = L).
        n = cfg["N"]
        g.output(g.irfft(g.channel_mul(g.rfft(u, n), g.rfft(kernel, n), band=cfg["band"]), n))
        return g
    extra = {}
    if cfg["gated"]:
        extra["pregate"] = g.input("pregate", (b, h, l), t)
        extra["postgate"] = g.input("postgate", (b, h, l), t)
    if cfg["skip"]:
        extra["skip"] = g.input("skip", (h,), "f32")
    if cfg.get("squash") is not None:
        kernel = g.squash(kernel, cfg["squash"])
    if cfg.get("smooth") is not None:
        kernel = g.smooth(kernel, cfg["smooth"])
    g.output(g.conv(u, kernel, causal=cfg["mode"] == "causal", **extra))
    return g


def configurations():
    out = []
    for n in CHECK_SIZES:
        for t in TYPES:
            # Causal, plain, full-length kernel; circular, gated, skip, K < L.
            l = n // 2
            b, h = check_batch(n)
            out.append(dict(N=n, B=b, H=h, L=l, K=l, dtype=t, mode="causal",
                            gated=False, skip=False, bench=False))
            # With its backward (the skip's gradient included) through the
            # single-kernel form and the first size of the three-pass form
            # (the larger ones: test_training_gpu.py's module cases).
            out.append(dict(N=n, B=b, H=h, L=n, K=n // 2 - 8, dtype=t,
                            mode="circular", gated=True, skip=True,
                            bench=False, training=n <= 65536))
    for n, (b, h) in BENCH_BH.items():
        for t in TYPES:
            out.append(dict(N=n, B=b, H=h, L=n // 2, K=n // 2, dtype=t,
                            mode="causal", gated=False, skip=False,
                            bench=True))
            out.append(dict(N=n, B=b, H=h, L=n, K=n, dtype=t, mode="circular",
                            gated=True, skip=False, bench=True))
    # The precision auto does not choose: split in the single-kernel form,
    # in the three-pass form half for f16 and split for bf16; and the
    # three-pass form at 16K (chains of outer_forward, conv, outer_inverse
    # take it at any size).
    for n in (1024, 4096, 65536):
        for t in TYPES:
            l = n // 2
            b, h = check_batch(n)
            precision = "half" if n > 8192 and t == "f16" else "split"
            out.append(dict(N=n, B=b, H=h, L=l, K=l, dtype=t, mode="causal",
                            gated=False, skip=False, bench=False,
                            precision=precision))
            out.append(dict(N=n, B=b, H=h, L=n, K=n // 2 - 8, dtype=t,
                            mode="circular", gated=True, skip=True,
                            bench=False, precision=precision))
    for t in TYPES:
        b, h = check_batch(16384)
        out.append(dict(N=16384, B=b, H=h, L=8192, K=8192, dtype=t,
                        mode="causal", gated=False, skip=False, bench=False,
                        single_kernel_max=8192))
        out.append(dict(N=16384, B=b, H=h, L=16384, K=8184, dtype=t,
                        mode="circular", gated=True, skip=True, bench=False,
                        single_kernel_max=8192))
    for n in (1024, 4096):
        for t in TYPES:
            out.append(dict(N=n, B=64, H=768, L=n // 2, K=n // 2, dtype=t,
                            mode="causal", gated=False, skip=False,
                            bench=True, precision="split"))
            out.append(dict(N=n, B=64, H=768, L=n, K=n, dtype=t,
                            mode="circular", gated=True, skip=False,
                            bench=True, precision="split"))
    # Where the forms meet: 16K and 32K in the three-pass form as well (by
    # default they run as one kernel at half), and the three-pass form at
    # the precision it does not take by default (half for f16, split for
    # bf16).
    for n in (16384, 32768, 65536):
        b, h = BENCH_BH[n]
        for t in TYPES:
            for gated in (False, True):
                l = n if gated else n // 2
                base = dict(N=n, B=b, H=h, L=l, K=l, dtype=t,
                            mode="circular" if gated else "causal",
                            gated=gated, skip=False, bench=True)
                if n <= 32768:
                    out.append(dict(base, single_kernel_max=8192))
                else:
                    out.append(dict(base, precision="half" if t == "f16" else "split"))
    # The three-pass form in one kernel on clusters of 8 blocks (f16 data,
    # no workspace): correctness at Split and Half, an odd batch (a pair's
    # second sequence past it), 32K to 128K (1 to 4 rows a block), and the
    # benchmark's 64K rows at Half.
    b, h = check_batch(65536)
    out.append(dict(N=65536, B=b, H=h, L=32768, K=32768, dtype="f16",
                    mode="causal", gated=False, skip=False, bench=False,
                    three_pass_cluster=8))
    out.append(dict(N=65536, B=b, H=h, L=65536, K=32760, dtype="f16",
                    mode="circular", gated=True, skip=True, bench=False,
                    precision="half", three_pass_cluster=8))
    out.append(dict(N=32768, B=b, H=h, L=16384, K=16384, dtype="f16",
                    mode="causal", gated=True, skip=False, bench=False,
                    single_kernel_max=16384, three_pass_cluster=8))
    b, h = check_batch(131072)
    out.append(dict(N=131072, B=b, H=h, L=65536, K=65536, dtype="f16",
                    mode="causal", gated=False, skip=False, bench=False,
                    three_pass_cluster=8))
    b, h = BENCH_BH[65536]
    for gated in (False, True):
        l = 65536 if gated else 32768
        out.append(dict(N=65536, B=b, H=h, L=l, K=l, dtype="f16",
                        mode="circular" if gated else "causal", gated=gated,
                        skip=False, bench=True, precision="half",
                        three_pass_cluster=8))
    # f32 sequences (Split precision; at N = 4096 the decomposition's
    # factors for f32 are restaged to the kernels'), with their backward.
    out.append(dict(N=4096, B=3, H=4, L=2048, K=2048, dtype="f32", mode="causal",
                    gated=False, skip=False, bench=False, training=True))
    out.append(dict(N=1024, B=3, H=4, L=1024, K=504, dtype="f32", mode="circular",
                    gated=True, skip=True, bench=False, training=True))
    # f32 in the three-pass form at 4M points, where k's taps (N(0, 1/K):
    # about 5e-4) fell below what f16's low halves hold before the kernels
    # scaled each block into f16's range (1.2e-4 then, bench/NOTES.md).
    out.append(dict(N=4194304, B=3, H=2, L=4194304, K=4194304, dtype="f32", mode="circular",
                    gated=False, skip=False, bench=False))
    # Frequency-sparse convolutions (f32, circular of period N): a band
    # that frees a tile of the last factor of 32 (a quarter of the bins, and
    # 100 of 1024, rounded up to whole 8-digit groups), one that frees none,
    # the factors reordered to end in 32 (16K), and the three-pass form
    # (8K past single_kernel_max), which zeroes K only; the benchmark's rows
    # without a band, with half and with a quarter of the bins.
    for n, band in ((2048, 256), (2048, 100), (2048, 600), (16384, 2048)):
        out.append(dict(N=n, B=3, H=4, L=n, K=n, dtype="f32", mode="circular",
                        gated=False, skip=False, bench=False, band=band))
    out.append(dict(N=8192, B=3, H=4, L=8192, K=8192, dtype="f32", mode="circular",
                    gated=False, skip=False, bench=False, band=1024, single_kernel_max=4096))
    for n in (1024, 16384):
        b, h = BENCH_BH[n]
        for band in (None, n // 4, n // 8):
            row = dict(N=n, B=b, H=h, L=n, K=n, dtype="f32", mode="circular",
                       gated=False, skip=False, bench=True)
            out.append(dict(row, band=band) if band else row)
    # sm_90a: the single kernel's last stage of 64 on the warpgroup MMA
    # (M = 1024 and 2048), causal and gated circular with skip and their
    # backward; and the benchmark's 4K rows, beside sm_90's.
    for n in (2048, 4096):
        for t in TYPES:
            b, h = check_batch(n)
            out.append(dict(N=n, B=b, H=h, L=n // 2, K=n // 2, dtype=t, mode="causal",
                            gated=False, skip=False, bench=False, chip="sm_90a"))
            out.append(dict(N=n, B=b, H=h, L=n, K=n // 2 - 8, dtype=t, mode="circular",
                            gated=True, skip=True, bench=False, training=True, chip="sm_90a"))
    for t in TYPES:
        b, h = BENCH_BH[4096]
        out.append(dict(N=4096, B=b, H=h, L=2048, K=2048, dtype=t, mode="causal",
                        gated=False, skip=False, bench=True, chip="sm_90a"))
        out.append(dict(N=4096, B=b, H=h, L=4096, K=4096, dtype=t, mode="circular",
                        gated=True, skip=False, bench=True, chip="sm_90a"))
    # Lengths that are not a multiple of 8: the single kernel masks the
    # last chunk of each row (gates, skip and the backward included).
    for t in TYPES:
        out.append(dict(N=2048, B=3, H=4, L=1001, K=1001, dtype=t, mode="causal",
                        gated=True, skip=True, bench=False, training=True, odd=True))
    # Shorter than the kernels' smallest transform: fftconv-to-ptx pads a
    # causal convolution of L = 24 to N = 256.
    for t in TYPES:
        out.append(dict(N=256, B=3, H=4, L=24, K=24, dtype=t, mode="causal",
                        gated=True, skip=True, bench=False, training=True))
    # The clustered cross spectrum (M = 16384 on sm_90, a backward without a
    # postgate): causal with skip (dD summed by v's block), an odd batch.
    for t in TYPES:
        out.append(dict(N=32768, B=3, H=4, L=16384, K=16384, dtype=t,
                        mode="causal", gated=False, skip=True, bench=False,
                        training=True))
    # Squash and Smooth on k, in the spectrum kernel (forward) and the
    # kernel that writes dk (backward; the three-pass form's at 64K):
    # causal and gated circular with skip, with their backward. Lambda half
    # the taps' deviation (k is N(0, 1/K)): about 40% of the taps are
    # squashed to zero.
    for n in (1024, 8192, 65536):
        for t in TYPES:
            b, h = check_batch(n)
            for taps, mode, gated, width in ((n // 2 - 8, "causal", False, 3), (n // 2, "circular", True, 5)):
                out.append(dict(N=n, B=b, H=h, L=n // 2 if mode == "causal" else n, K=taps, dtype=t,
                                mode=mode, gated=gated, skip=gated, bench=False, training=True,
                                squash=round(0.5 / taps ** 0.5, 6), smooth=width))
    for cfg in out:
        cfg["name"] = (f"{'bench' if cfg['bench'] else 'check'}-n{cfg['N']}-"
                       f"{cfg['dtype']}-{cfg['mode']}"
                       f"{'-gated' if cfg['gated'] else ''}"
                       f"{'-skip' if cfg['skip'] else ''}"
                       f"{'-regularized' if 'squash' in cfg else ''}"
                       f"{'-odd' if cfg.get('odd') else ''}"
                       f"{'-band' + str(cfg['band']) if cfg.get('band') else ''}"
                       f"{'-threepass' if 'single_kernel_max' in cfg else ''}"
                       f"{'-' + cfg['precision'] if 'precision' in cfg else ''}"
                       f"{'-cluster' + str(cfg['three_pass_cluster']) if 'three_pass_cluster' in cfg else ''}"
                       f"{'-' + cfg['chip'] if 'chip' in cfg else ''}")
    return out


def block_shapes(prefix, variants, sizes, thread_counts, tiles):
    """Every block shape (threads x batch tile) of the benchmark's causal
    and gated circular rows of `sizes`, for each (dtype, precision) of
    `variants` (precision None: the default), named <prefix>-n<N>-<dtype>-
    <mode>-t<threads>-b<tile>[-<precision>]."""
    out = []
    for dtype, precision in variants:
        for n in sizes:
            b, h = BENCH_BH[n]
            for threads in thread_counts:
                for tile in tiles:
                    for gated in (False, True):
                        l = n if gated else n // 2
                        cfg = dict(N=n, B=b, H=h, L=l, K=l, dtype=dtype,
                                   mode="circular" if gated else "causal",
                                   gated=gated, skip=False, bench=True,
                                   threads=threads, batch_tile=tile)
                        if precision:
                            cfg["precision"] = precision
                        cfg["name"] = (f"{prefix}-n{n}-{dtype}-"
                                       f"{'gated' if gated else 'causal'}"
                                       f"-t{threads}-b{tile}"
                                       f"{'-' + precision if precision else ''}")
                        out.append(cfg)
    return out


def tuning_configurations():
    """Block shapes of the benchmark's single-kernel configurations (256 to
    32K), fp16 and bf16, for `bench.py --all` over the --tune folder (shapes
    a block cannot hold are refused and left out)."""
    return block_shapes("tune", (("f16", None), ("bf16", None)),
                        (256, 1024, 4096, 8192, 16384, 32768),
                        (64, 128, 256, 512), (1, 2, 4, 8, 16))


def three_pass_tuning_configurations():
    """Block shapes of the benchmark's three-pass rows (64K and 1M): fp16 at
    its default precision and at half, bf16 at its default. Three-pass blocks
    take the request's threads for the outer and the inner kernels alike; the
    batch tile is the inner block's sequences (pairs of them)."""
    return block_shapes("tune3", (("f16", None), ("f16", "half"), ("bf16", None)),
                        (65536, 1048576), (128, 256, 512), (2, 4, 8))


# The configuration keys that are options of fftconv-to-ptx.
OPTIONS = ("single_kernel_max", "precision", "threads", "batch_tile", "ranks", "rank",
           "three_pass_cluster")


# The sequence sharded over 2 and 4 GPUs (fftconv.distributed), into
# <out>/sharded/<name>-rank<r>: correctness from the first three-pass size
# to L = 2^26 (causal: N = 2^27, 4096 rows of 32768 at Half), fp16 and bf16, causal
# and gated circular, with their backward up to 2^26 points (a kernel
# gradient's rows hold 8192 points at Split, outer blocks of 4 columns 8192
# of them at Half); and the scaling benchmark's
# L = 2^22 .. 2^24. Each
# also unsharded (ranks 1, the three-pass form): the one-GPU baseline and
# second reference.
SHARDED_CHECKS = [  # (N, B, H, dtype, mode)
    (131072, 3, 2, "f16", "causal"), (131072, 3, 2, "bf16", "circular"),
    (4194304, 3, 2, "f16", "causal"), (4194304, 3, 2, "bf16", "circular"),
    (8388608, 2, 2, "f16", "causal"), (8388608, 2, 2, "bf16", "circular"),
    (33554432, 2, 1, "f16", "causal"), (16777216, 2, 1, "bf16", "circular"),
    (33554432, 2, 1, "bf16", "circular"),
    # Past Split's 2^25 points: Half's rows of 32768 and outer blocks of 4096
    # rows (L = 2^26 causal, 4x the longest the three-pass form held at
    # Split).
    (134217728, 1, 1, "f16", "causal"), (67108864, 1, 1, "bf16", "circular"),
    # The backward at 2^26 points (causal L = 2^25): rows of 8192 at Split,
    # outer blocks of 8192 rows on 4 columns, their last stage of 8 on the
    # FMA units.
    (67108864, 2, 1, "f16", "causal"),
    # Memory-bound (one GPU's workspace bounds a rank's): K's exchange in
    # place and the channels chunked.
    (16777216, 8, 32, "f16", "causal"),
    # A skip term: its gradient dD, lag 0, is rank 0's, sent to every rank.
    (4194304, 3, 2, "f16", "causal", "skip"),
    # k squashed (tap by tap: each rank its own taps), and its subgradient.
    (4194304, 3, 2, "f16", "causal", "squash"),
    # Frequency-sparse (f32, circular, a quarter of the bins): K's inner
    # kernels zero the frequencies outside the band, each rank its rows'.
    # At 8K (two rows: one or two ranks), and at 4M (where the f32
    # three-pass form measured 1.2e-4, sharded or not, before the kernels
    # scaled each block into f16's range).
    (8192, 3, 2, "f32", "circular", "band"), (4194304, 3, 2, "f32", "circular", "band"),
]
SHARDED_BENCH = [  # (N, B, H, dtype, mode)
    (8388608, 8, 2, "f16", "causal"), (16777216, 8, 2, "f16", "causal"),
    (33554432, 8, 2, "f16", "causal"), (33554432, 8, 2, "bf16", "circular"),
    (33554432, 2, 8, "f16", "causal"), (134217728, 2, 2, "f16", "causal"),
]
# Sequences 4x longer on 4 GPUs than on one in the same memory: L = 2^24 on
# one GPU and 2^26 on 4 (causal f16), at batches x channels where the
# output holds the workspace sets (8 x 16: 17 GiB; 8 x 64: 68 GiB, what an
# 80 GB H100 holds at 2^24 and not at 2^25).
SHARDED_MEMORY = [  # (N, B, H, ranks)
    (33554432, 8, 16, 1), (134217728, 8, 16, 4), (33554432, 8, 64, 1), (134217728, 8, 64, 4),
]


def build_sharded_module_cache(out, chip):
    """The kernel cache of kernel_configs.SHARDED_MODULE_CASE: every rank's
    programs (forward and backward) for 2 and 4 ranks, as
    fftconv.distributed.FFTConv looks them up."""
    os.environ["FFTCONV_KERNEL_CACHE"] = os.path.abspath(out)
    from fftconv import MLIRError, distributed
    from fftconv.kernel_configs import SHARDED_MODULE_CASE
    from fftconv.torch import kernel_cache_stem

    b, h, length, causal, gated = SHARDED_MODULE_CASE
    graph = distributed.sharded_graph(b, h, length, length, causal, "f16", gated, gated)
    errors = []
    for ranks in (2, 4):
        for rank in range(ranks):
            try:
                program = distributed.compile_rank(graph, rank, ranks, chip, training=True)
            except MLIRError as error:
                errors.append(f"module case, rank {rank} of {ranks}: {error}")
                continue
            program.save(kernel_cache_stem(graph, chip, ranks=ranks, rank=rank))
    return errors


def sharded_configurations():
    out = []
    for n, b, h, ranks in SHARDED_MEMORY:
        base = dict(N=n, B=b, H=h, L=n // 2, K=n // 2, dtype="f16", mode="causal", gated=False, skip=False,
                    bench=True, memory=True, training=False)
        stem = f"memory-n{n}-f16-causal-b{b}h{h}-r{ranks}"
        for rank in range(ranks):
            cfg = dict(base, name=f"{stem}-rank{rank}", group=stem)
            if ranks > 1:
                cfg.update(ranks=ranks, rank=rank)
            else:
                cfg["single_kernel_max"] = 8192
            out.append(cfg)
    for bench, cases in ((False, SHARDED_CHECKS), (True, SHARDED_BENCH)):
        for n, b, h, t, mode, *extra in cases:
            l = n // 2 if mode == "causal" else n
            band = "band" in extra
            gated = mode == "circular" and not band
            skip = "skip" in extra
            base = dict(N=n, B=b, H=h, L=l, K=l, dtype=t, mode=mode, gated=gated, skip=skip, bench=bench,
                        training=not bench and not band and n <= 67108864 and b * h <= 6)
            if band:
                base["band"] = n // 8
            if "squash" in extra:
                base["squash"] = round(0.5 / l ** 0.5, 9)  # about 40% of k's taps to zero
            stem = (f"{'bench' if bench else 'check'}-n{n}-{t}-{mode}{'-gated' if gated else ''}"
                    f"{'-skip' if skip else ''}{'-squash' if 'squash' in extra else ''}"
                    f"{'-band' if band else ''}-b{b}h{h}")
            # A rank owns whole rows of the N / 4096 of the smaller sizes.
            for ranks in [r for r in (1, 2, 4) if r <= max(1, n // 4096)]:
                for rank in range(ranks):
                    cfg = dict(base, name=f"{stem}-r{ranks}-rank{rank}", group=f"{stem}-r{ranks}")
                    if ranks > 1:
                        cfg.update(ranks=ranks, rank=rank)
                    else:
                        cfg["single_kernel_max"] = 8192  # the three-pass form, as sharded
                    out.append(cfg)
    return out


def build(cfg, out, chip):
    """Compiles one configuration in this process (fftconv.compile, the C
    API's fftconvCompileToPTX) into <out>/<name>/{program.mlir, kernel.ptx,
    manifest.json, config.json}; returns an error message or None."""
    from fftconv import MLIRError, gpu

    folder = os.path.join(out, cfg["name"])
    os.makedirs(folder, exist_ok=True)
    g = graph(cfg)
    with open(os.path.join(folder, "program.mlir"), "w") as f:
        f.write(g.mlir(named=True))
    options = {key: cfg[key] for key in OPTIONS if key in cfg}
    try:
        compiled = gpu.compile(g, target=cfg.get("chip", chip), training=cfg.get("training", False), **options)
    except MLIRError as error:
        return f"{cfg['name']}: {error}"
    stem = os.path.join(folder, "kernel")
    os.replace(compiled.save(stem), os.path.join(folder, "manifest.json"))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    return None


# The drop-in module's GPU tests (test/GPU/test_torch_module_gpu.py and
# test_training_gpu.py, whose gated causal case is the third):
# (seqlen, B, H, L, K, pregate and postgate) per dtype.
MODULE_CASES = [(2048, 2, 8, 1024, 1024, False), (4096, 2, 8, 4096, 1000, True),
                (2048, 2, 8, 1024, 1024, True)]


# The compiled GPU backward's tests (test/GPU/test_training_gpu.py): every
# power of two N from 256 to 4M (the single-kernel form to 32K, the
# three-pass form past it), causal and circular, gated and not, K < L, odd
# B, a causal L = 24 that the compiler pads to N = 256, and lengths that
# are not a multiple of 8 (masked) in both forms: (seqlen, B, H, L, K,
# gated).
TRAINING_CASES = [(48, 3, 4, 24, 24, True), (2048, 3, 4, 1001, 1001, True), (256, 3, 4, 128, 128, False), (256, 3, 4, 256, 256, True),
                  (512, 3, 4, 256, 200, True), (1024, 3, 4, 1024, 1024, False),
                  (2048, 1, 2, 1024, 1000, True), (4096, 2, 2, 4096, 4096, True),
                  (8192, 3, 2, 4096, 4096, False), (16384, 3, 2, 16384, 8000, True),
                  (32768, 3, 2, 16384, 16384, True), (32768, 1, 2, 32768, 32768, True),
                  (32768, 3, 2, 16384, 16384, False)]
THREE_PASS_TRAINING_CASES = [(1 << 16, 3, 2, 1 << 15, 1 << 15, True), (1 << 16, 2, 2, 1 << 16, 60000, True),
                             (1 << 17, 5, 1, 1 << 16, 1 << 16, False), (1 << 18, 3, 1, 1 << 17, 100000, True),
                             (1 << 19, 1, 1, 1 << 19, 1 << 19, True), (1 << 20, 2, 1, 1 << 19, 1 << 19, True),
                             (1 << 21, 1, 1, 1 << 20, 1 << 20, False), (1 << 22, 1, 1, 1 << 21, 1 << 21, True),
                             (1 << 22, 1, 1, 1 << 22, 1 << 22, False), (1 << 17, 3, 2, 40001, 40001, True)]
TRAINING_CASES += THREE_PASS_TRAINING_CASES


# The f32 backward's tests (test_training_gpu.py): the single kernel (its
# stages restaged) and the three-pass form (an f32 workspace).
F32_TRAINING_CASES = [(4096, 2, 8, 4096, 1000, True), (1 << 16, 3, 2, 1 << 15, 1 << 15, True)]


# examples/train_hyena.py on a GPU with --length 128: two blocks of a gated
# causal convolution of B = 32, H = 64, L = K = 128 (seqlen 2L).
EXAMPLE_CASES = [(256, 32, 64, 128, 128, True)]


def build_module_case(out, chip, dtype, case):
    """Compiles one configuration of the drop-in module, (seqlen, B, H, L,
    K, gated) in torch dtype `dtype`, into the module cache under `out`
    (the folder FFTCONV_KERNEL_CACHE names on the GPU machine)."""
    from fftconv import gpu
    from fftconv.torch import FFTConv, kernel_cache_stem

    os.environ["FFTCONV_KERNEL_CACHE"] = os.path.join(out, "module-cache")
    seqlen, b, h, l, k, gated = case
    module = FFTConv(seqlen, dtype)
    causal = seqlen >= l + k - 1
    graph = module._graph(b, h, l, k, causal, gated, gated)
    stem = kernel_cache_stem(graph, chip)
    try:
        program = gpu.compile(graph, target=chip, training=True)
    except Exception:
        # Past the compiled backward's sizes: the forward alone (the
        # drop-in's backward is then the interim one).
        program = gpu.compile(graph, target=chip)
    program.save(stem)


# The forward + backward benchmark (bench/bench_training.py; design.md,
# "Forward + backward"): per dtype and FFT size N, causal (L = K = N/2, no
# gates) and gated circular (L = K = N, pregate and postgate), B x H as in
# BENCH_BH. Each entry is (name, dtype, (seqlen, B, H, L, K, gated)); the
# name is what --only and bench_training.py's --only match.
TRAINING_BENCH_CASES = [
    (f"train-n{n}-{t}-{'gated-circular' if gated else 'causal'}", t,
     (n, b, h, n if gated else n // 2, n if gated else n // 2, gated))
    for t in TYPES for n, (b, h) in BENCH_BH.items() for gated in (False, True)
]


def build_training_case(out, chip, name, dtype, case):
    """build_module_case for one TRAINING_BENCH_CASES entry (dtype by name),
    in a worker process; returns an error message or None."""
    import torch

    try:
        torch_dtype = {"f16": torch.float16, "bf16": torch.bfloat16}[dtype]
        build_module_case(out, chip, torch_dtype, case)
    except Exception as error:  # report it and go on with the others
        return f"{name}: {type(error).__name__}: {error}"
    return None


# Hyena operators ingested whole (examples/hyena_operator.py; the GPU test
# test/GPU/test_ingest_gpu.py): (d_model, l_max, order, num_heads, batch,
# bidirectional, num_blocks).
INGEST_CASES = [(8, 64, 2, 2, 2, False, 1), (8, 64, 3, 2, 2, False, 1), (64, 4096, 2, 4, 2, False, 1),
                (8, 64, 2, 2, 2, True, 1), (8, 128, 2, 2, 2, False, 2)]

# Multi-head convolutions (test/GPU/test_graph_forms_gpu.py): (dtype, B, G,
# H, Z, L, gated): Hyena's blocks in the single kernel (masked L) and the
# three-pass form.
MULTI_HEAD_CASES = [("f16", 2, 2, 4, 3, 1000, True), ("bf16", 1, 2, 4, 2, 65536, False)]


def multi_head_graph(case):
    """The graph of one MULTI_HEAD_CASES entry (causal, K = L)."""
    element, b, g_heads, h, z, length, gated = case
    return form_graph("multi_head", element, (b, g_heads, h, z, length), length, gated)


def ingest_case(case, device="cpu"):
    """The layer and input of one INGEST_CASES entry, seeded: the same on
    the build machine and the GPU machine, so that the graphs ingested from
    it (and their kernel cache keys) are too."""
    import torch

    sys.path.insert(0, os.path.join(REPO, "examples"))
    from hyena_operator import HyenaOperator

    d_model, l_max, order, heads, batch, bidirectional, blocks = case
    torch.manual_seed(sum(case))
    layer = HyenaOperator(d_model=d_model, l_max=l_max, order=order, num_heads=heads,
                          num_blocks=blocks, bidirectional=bidirectional).to(device)
    u = torch.randn(batch, l_max, d_model, device=device)
    return layer, u


# Bidirectional convolutions (a reverse kernel; test/GPU/test_graph_forms_gpu.py):
# (dtype, B, H, L, K, K', gated): the single kernel, a partial reverse
# kernel, the three-pass form, and a masked three-pass length.
BIDIRECTIONAL_CASES = [
    ("f16", 2, 4, 1024, 1024, 1024, True), ("bf16", 2, 4, 1000, 300, 700, False),
    ("f16", 2, 4, 65536, 65536, 65536, True), ("f16", 1, 2, 40001, 100, 40001, False),
]


def form_graph(name, element, shape, taps, gated, causal=True, reverse_taps=None):
    """y = postgate * (k (*) v [+ kr (star) v] + D v), v = pregate * u, on
    sequences of `shape` (B x H x L or B x G x H x Z x L): the graph of one
    entry of BIDIRECTIONAL_CASES, MULTI_HEAD_CASES or CIRCULAR_CASES (inputs
    u, k, [kr,] [pregate, postgate,] d)."""
    from fftconv.graph import Graph

    channels = shape[1] if len(shape) == 3 else shape[2]
    g = Graph(name)
    u = g.input("u", shape, element)
    k = g.input("k", (channels, taps), "f32")
    kr = g.input("kr", (channels, reverse_taps), "f32") if reverse_taps else None
    pre = g.input("pregate", shape, element) if gated else None
    post = g.input("postgate", shape, element) if gated else None
    d = g.input("d", (channels,), "f32")
    g.output(g.conv(u, k, causal=causal, pregate=pre, postgate=post, skip=d, reverse=kr))
    return g


def bidirectional_graph(case):
    """The graph of one BIDIRECTIONAL_CASES entry (causal, reverse kernel)."""
    element, b, h, length, taps, reverse_taps, gated = case
    return form_graph("bidirectional", element, (b, h, length), taps, gated, reverse_taps=reverse_taps)


# Circular convolutions through fftconv.circulate's taps (lengths that are
# not powers of two, and one below the kernels' smallest transform;
# test/GPU/test_graph_forms_gpu.py): (dtype, B, H, L, K, gated), forward and
# backward.
CIRCULAR_CASES = [("f16", 2, 4, 1000, 1000, True), ("bf16", 2, 4, 100, 37, False),
                  ("f16", 1, 4, 24, 24, False), ("f16", 1, 2, 40000, 40000, True)]


def circular_graph(case):
    """The graph of one CIRCULAR_CASES entry (circular of period L)."""
    element, b, h, length, taps, gated = case
    return form_graph("circular", element, (b, h, length), taps, gated, causal=False)


def build_ingest_cache(out, chip):
    """Compiles the bidirectional graphs and the convolutions of the
    ingested Hyena operators into the folder FFTCONV_KERNEL_CACHE points the
    GPU tests at."""
    from fftconv import gpu
    from fftconv.ingest import ingest
    from fftconv.torch import kernel_cache_stem

    os.environ["FFTCONV_KERNEL_CACHE"] = os.path.join(out, "module-cache")
    graphs = [bidirectional_graph(case) for case in BIDIRECTIONAL_CASES]
    graphs += [multi_head_graph(case) for case in MULTI_HEAD_CASES]
    graphs += [circular_graph(case) for case in CIRCULAR_CASES]
    for case in INGEST_CASES:
        layer, u = ingest_case(case)
        graphs += ingest(layer, (u,), partial=True).graphs
    for graph in graphs:
        gpu.compile(graph, target=chip, training=True).save(kernel_cache_stem(graph, chip))


def build_module_cache(out, chip):
    """Compiles the drop-in module's test configurations into the folder
    FFTCONV_KERNEL_CACHE points the GPU test at."""
    import torch

    for dtype in (torch.float16, torch.bfloat16):
        for case in MODULE_CASES + TRAINING_CASES + EXAMPLE_CASES:
            build_module_case(out, chip, dtype, case)
    # f32 sequences (Split precision): the drop-in's own test cases and the
    # f32 backward's.
    for case in MODULE_CASES[:2] + F32_TRAINING_CASES:
        build_module_case(out, chip, torch.float32, case)
    build_ingest_cache(out, chip)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(REPO, "build", "gpu-kernels"))
    parser.add_argument("--chip", default="sm_90")
    parser.add_argument("--only", default="", help="substring of config names")
    parser.add_argument("--tune", action="store_true",
                        help="the block-shape variants instead of the "
                        "test and benchmark configurations")
    parser.add_argument("--tune-three-pass", action="store_true",
                        help="the three-pass rows' block-shape variants")
    parser.add_argument("--sharded", action="store_true",
                        help="only the configurations sharded over 2 and 4 "
                        "GPUs (and their one-GPU baselines), into <out>/sharded")
    parser.add_argument("--training-bench", action="store_true",
                        help="only the forward + backward benchmark's "
                        "configurations (TRAINING_BENCH_CASES), into "
                        "<out>/module-cache")
    args = parser.parse_args()
    if args.training_bench:
        cases = [c for c in TRAINING_BENCH_CASES if args.only in c[0]]
        errors = []
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            futures = [pool.submit(build_training_case, args.out, args.chip,
                                   *c) for c in cases]
            errors = [e for e in (f.result() for f in futures) if e]
        for e in errors:
            print(e, file=sys.stderr)
        cache = os.path.join(args.out, "module-cache")
        print(f"{len(cases) - len(errors)} of {len(cases)} training-benchmark "
              f"configurations compiled into {cache}")
        return 1 if errors else 0
    if args.sharded:
        errors = build_sharded_module_cache(os.path.join(args.out, "sharded-module-cache"), args.chip)
        for e in errors:
            print(e, file=sys.stderr)
        args.out = os.path.join(args.out, "sharded")
        every = sharded_configurations()
    else:
        every = (tuning_configurations() if args.tune else
                 three_pass_tuning_configurations() if args.tune_three_pass
                 else configurations())
    cfgs = [c for c in every if args.only in c["name"]]
    # One process per core: each compiles in its own MLIR context.
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        errors = [e for e in pool.map(build, cfgs, repeat(args.out), repeat(args.chip)) if e]
    for e in errors:
        print(e, file=sys.stderr)
    if not (args.only or args.tune or args.tune_three_pass or args.sharded):
        build_module_cache(args.out, args.chip)
    print(f"{len(cfgs) - len(errors)} of {len(cfgs)} configurations compiled into {args.out}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
