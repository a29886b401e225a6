"""fftconv.compile: PTX plus the launch manifest, on a machine without a
GPU. Every PTX is assembled by the CUDA toolkit's ptxas for its chip where
ptxas is installed (skipped with a message otherwise)."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

import fftconv  # noqa: E402
from fftconv.graph import Graph  # noqa: E402

PTXAS = os.environ.get("FFTCONV_PTXAS", "/usr/local/cuda/bin/ptxas")


def hyena(n_fft, dtype, gated=True):
    g = Graph("hyena")
    length = n_fft // 2
    u = g.input("u", (2, 4, length), dtype)
    k = g.input("k", (4, length), "f32")
    pre = g.input("x1", (2, 4, length), dtype) if gated else None
    post = g.input("x2", (2, 4, length), dtype) if gated else None
    d = g.input("d", (4,), "f32")
    g.output(g.conv(u, k, pregate=pre, postgate=post, skip=d))
    return g


def assemble(program, tmp_path):
    if not os.path.exists(PTXAS):
        pytest.skip(f"ptxas not found at {PTXAS}: PTX not assembled")
    path = tmp_path / "kernel.ptx"
    path.write_text(program.ptx)
    chip = program.manifest["chip"]
    proc = subprocess.run([PTXAS, f"-arch={chip}", str(path), "-o", str(tmp_path / "kernel.cubin")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"ptxas -arch={chip}: {proc.stderr}"


@pytest.mark.parametrize("target", ["sm_80", "sm_90"])
@pytest.mark.parametrize("n_fft,dtype", [(256, "f16"), (4096, "bf16"), (65536, "f16")])
def test_compile_and_assemble(n_fft, dtype, target, tmp_path):
    program = fftconv.compile(hyena(n_fft, dtype), target=target)
    manifest = program.manifest
    assert manifest["chip"] == target and manifest["entry"] == "hyena"
    names = [(a["name"], a["role"]) for a in manifest["arguments"]]
    # What the compiler chose, as the manifest records it: three passes
    # past the default single-kernel-max (32768), split precision there.
    (convolution,) = manifest["convolutions"]
    three_pass = convolution["form"] == "three-pass"
    assert three_pass == (n_fft > 32768)
    assert convolution["precision"] == ("split" if three_pass else "half")
    assert convolution["fft_size"] == n_fft
    assert math.prod(convolution["factors"]) == (n_fft if three_pass else n_fft // 2)
    assert convolution["kernels"] == list(range(len(manifest["kernels"])))
    workspaces = [("workspace0", "workspace")] + ([("workspace1", "workspace")] if three_pass else [])
    assert names == [("u", "input"), ("k", "input"), ("x1", "input"), ("x2", "input"), ("d", "input"),
                     ("result0", "output")] + workspaces
    shapes = [a["shape"] for a in manifest["arguments"]]
    assert shapes[0] == [2, 4, n_fft // 2]
    kernels = {k["name"]: k for k in manifest["kernels"]}
    if three_pass:
        # K from k, then the outer forward, inner and outer inverse passes
        # over the workspace (one pair of batch rows, 2N floats a row).
        assert list(kernels) == ["hyena_conv0_spectrum_outer", "hyena_conv0_spectrum_inner",
                                 "hyena_conv0_outer_forward", "hyena_conv0_inner", "hyena_conv0_outer_inverse"]
        assert shapes[6] == [4, 2 * n_fft] and shapes[7] == [1, 4, 2 * n_fft]
        assert kernels["hyena_conv0_spectrum_outer"]["arguments"] == [1, 6]
        assert kernels["hyena_conv0_inner"]["arguments"] == [7, 6]
        assert kernels["hyena_conv0_outer_inverse"]["arguments"][-1] == 5
        assert all(k["shared_bytes"] > 0 for k in kernels.values())
    else:
        spectrum, conv = manifest["kernels"]
        assert spectrum["name"] == "hyena_conv0_spectrum" and spectrum["arguments"] == [1, 6]
        assert conv["name"] == "hyena_conv0" and conv["arguments"][-1] == 5
        # A one-dimensional grid, the batch groups of a channel consecutive.
        assert conv["grid"][0] % 4 == 0 and conv["grid"][1:] == [1, 1] and conv["shared_bytes"] > 0
    assert f".target {target}" in program.ptx
    assert "mma.sync.aligned.m16n8k16" in program.ptx and "ldmatrix" in program.ptx
    assemble(program, tmp_path)


@pytest.mark.parametrize("gated", [False, True])
def test_bf16_three_pass_workspace_holds_scaled_halves(gated, tmp_path):
    # bf16 data past the single kernel: the workspace holds f16 values, each
    # block's scaled into f16's range, and after a (pair, channel)'s N
    # complex values one f32 scale (two f16s) a tile of an outer block's
    # columns and one a row (16 rows of 4096 at 64K, 256 columns a block).
    n_fft = 65536
    program = fftconv.compile(hyena(n_fft, "bf16", gated=gated), target="sm_90")
    (convolution,) = program.manifest["convolutions"]
    assert convolution["form"] == "three-pass" and convolution["precision"] == "half"
    workspace = program.manifest["arguments"][-1]
    rows, tiles = 16, 4096 // 256
    assert workspace["dtype"] == "f16"
    assert workspace["shape"] == [1, 4, 2 * (n_fft + tiles + rows)]
    assemble(program, tmp_path)


@pytest.mark.parametrize("n_fft,factors", [(2048, [16, 64]), (4096, [32, 64]), (8192, None)])
def test_sm90a_ends_in_a_warpgroup_stage(n_fft, factors, tmp_path):
    # sm_90a: a Half single kernel of M = 1024 or 2048 ends in a stage of 64
    # on the warpgroup MMA (wgmma, operands in shared memory); elsewhere the
    # kernels are sm_90's.
    program = fftconv.compile(hyena(n_fft, "f16"), target="sm_90a")
    (convolution,) = program.manifest["convolutions"]
    assert program.manifest["chip"] == "sm_90a" and ".target sm_90a" in program.ptx
    if factors:
        assert convolution["factors"] == factors
        # Two 64-row tiles for each of 8 k-steps, forward and inverse.
        assert program.ptx.count(f"wgmma.mma_async.sync.aligned.m64n{n_fft // 128}k16.f32.f16.f16") == 32
        assert "fence.proxy.async.shared::cta" in program.ptx
        conv = program.manifest["kernels"][1]
        # The sequences (4 bytes a complex value at Half) and the factor's
        # image (16 KiB).
        sequences = conv["shared_bytes"] - 16384
        assert sequences > 0 and sequences % (n_fft // 2 * 4) == 0
    else:
        assert 64 not in convolution["factors"] and "wgmma" not in program.ptx
    assemble(program, tmp_path)


def test_backward_at_2p26_on_narrow_outer_tiles(tmp_path):
    # A causal L = 2^25 (N = 2^26) trains: the backward's rows of 8192 (what
    # its cross spectrum's block holds at Split) leave 8192 outer rows,
    # whose blocks own 4 columns (8192 x 4 x 4 bytes at Half) and end in a
    # stage of 8 on the FMA units; a block of 8 columns would not fit.
    g = Graph("long")
    length = 1 << 25
    u = g.input("u", (2, 1, length), "f16")
    k = g.input("k", (1, length), "f32")
    g.output(g.conv(u, k))
    program = fftconv.compile(g, training=True)
    (convolution,) = program.backward.manifest["convolutions"]
    assert convolution["factors"] == [32, 32, 8, 32, 16, 16] and convolution["precision"] == "split"
    kernels = {k["name"]: k for k in program.backward.manifest["kernels"]}
    outer = kernels["long_backward_kernel_gradient0_outer_forward_v"]
    assert outer["grid"][0] == 8192 // 4 and outer["shared_bytes"] == 8192 * 4 * 4
    assert kernels["long_backward_kernel_gradient0_cross_spectrum"]["grid"][0] == 8192
    assemble(program.backward, tmp_path)


def test_save_writes_ptx_and_manifest(tmp_path):
    program = fftconv.compile(hyena(256, "f16", gated=False))
    manifest_path = program.save(str(tmp_path / "out" / "hyena"))
    text = open(manifest_path).read()
    assert '"ptx": "hyena.ptx"' in text
    assert open(tmp_path / "out" / "hyena.ptx").read() == program.ptx


# A convolution with a constant kernel: refused on the GPU (its spectrum
# kernel reads k from a function argument).
ODD = """
func.func @odd(%u: tensor<1x1x100xf16>) -> tensor<1x1x100xf16> {
  %k = arith.constant dense<0.5> : tensor<1x100xf32>
  %y = fftconv.conv causal %u, %k : (tensor<1x1x100xf16>, tensor<1x100xf32>) -> tensor<1x1x100xf16>
  return %y : tensor<1x1x100xf16>
}
"""


def test_compile_errors_carry_locations():
    # MLIR text: the diagnostics point into it.
    with pytest.raises(fftconv.MLIRError, match=r"program.mlir\":4:\d+\): error: .*kernel given as a function argument .*a constant kernel"):
        fftconv.compile(ODD)


def test_compile_rejects_unknown_targets():
    with pytest.raises(ValueError, match="target must be one of"):
        fftconv.compile(hyena(256, "f16"), target="sm_70")


def test_compile_a_module_through_the_bindings():
    context = fftconv.Context()
    module = hyena(1024, "bf16").module(context)
    program = fftconv.compile(module, target="sm_90")
    assert [k["name"] for k in program.manifest["kernels"]] == ["hyena_conv0_spectrum", "hyena_conv0"]
    assert "mma.sync.aligned.m16n8k16" in program.ptx
    assert "gpu.launch_func" in str(module)  # rewritten in place


def test_binding_errors_carry_locations():
    # A Graph: the diagnostics name the graph node and the line that made it.
    context = fftconv.Context()
    g = Graph("odd")
    u = g.input("u", (1, 1, 100), "f16")
    line = sys._getframe().f_lineno + 1
    g.output(g.conv(u, g.constant(np.full((1, 100), 0.5), "f32")))
    with pytest.raises(fftconv.MLIRError, match=rf"loc\(\"v2\"\(\".*test_gpu_compile.py\":{line}:\d+\)\): error: .*kernel given as a function argument .*a constant kernel"):
        fftconv.compile(g.module(context))


def test_compile_options_come_from_the_pipeline():
    # The defaults are fftconv-to-ptx's own, read through the C API; an option
    # passed to compile_to_ptx reaches butterfly-to-gpu.
    defaults = fftconv.compile_options_default()
    assert set(defaults) == {"chip", "order", "precision", "threads", "batch_tile", "single_kernel_max", "ranks", "rank",
                             "max_row_length", "three_pass_cluster"}
    assert (defaults["ranks"], defaults["rank"], defaults["max_row_length"], defaults["three_pass_cluster"]) == (1, 0, 0, 1)
    assert defaults["chip"] in ("sm_80", "sm_90") and defaults["precision"] == "auto"
    ctx = fftconv.Context()
    text = hyena(8192, "f16").mlir(named=True)
    _, single = fftconv.Module.parse(ctx, text).compile_to_ptx()
    _, three_pass = fftconv.Module.parse(ctx, text).compile_to_ptx(single_kernel_max=2048)
    assert len(json.loads(three_pass)["kernels"]) > len(json.loads(single)["kernels"])
    # The three passes in one kernel on clusters of 8 blocks: K's two kernels
    # and that one, no workspace between passes.
    clustered = fftconv.Module.parse(ctx, hyena(65536, "f16").mlir(named=True)).compile_to_ptx(
        single_kernel_max=32768, three_pass_cluster=8)[1]
    clustered = json.loads(clustered)
    assert [c.get("cluster") for c in clustered["convolutions"]] == [8]
    assert [k["name"].rsplit("_", 1)[-1] for k in clustered["kernels"]] == ["outer", "inner", "clustered"]
    with pytest.raises(fftconv.MLIRError, match="precision"):
        fftconv.Module.parse(ctx, text).compile_to_ptx(precision="quarter")


def _mma_count(program, kernel):
    ptx = program.ptx
    start = ptx.index(f".entry {kernel}(")
    end = ptx.find(".entry", start + 1)
    return ptx[start : end if end > 0 else len(ptx)].count("mma.sync.aligned")


def plain_conv(length, causal, **options):
    """One f16 convolution of 2 x 4 sequences of `length` samples (f32 k of
    as many taps), causal or circular, compiled for sm_90 (with the other
    options of fftconv.compile)."""
    g = Graph("c")
    u = g.input("u", (2, 4, length), "f16")
    k = g.input("k", (4, length), "f32")
    g.output(g.conv(u, k, causal=causal))
    return fftconv.compile(g, target="sm_90", **options)


def test_causal_skips_known_zero_slabs(tmp_path):
    # A causal convolution of L = 1024 and a circular one of L = 2048 take
    # the same transform (M = 1024, factors 32 x 32). The causal one's
    # input is zero in the upper half of the first stage's digit and its
    # second half is discarded: that stage skips a 16-digit slab of products
    # forward and a 16-digit row tile inverse (8 MMAs each at half
    # precision: 2 tiles x 4 real terms). The spectrum kernel's k (K = L
    # taps) skips the same slab forward (24 MMAs at split precision). One
    # sequence a block, so that each stage's products are in the PTX once
    # (LLVM may unroll a block's loop over its sequences).
    causal = plain_conv(1024, True, batch_tile=1)
    circular = plain_conv(2048, False, batch_tile=1)
    for program in (causal, circular):
        assert program.manifest["convolutions"][0]["factors"] == [32, 32]
    assert _mma_count(circular, "c_conv0") - _mma_count(causal, "c_conv0") == 16
    assert _mma_count(circular, "c_conv0_spectrum") - _mma_count(causal, "c_conv0_spectrum") == 24
    assemble(causal, tmp_path)


def test_three_pass_causal_skips_known_zero_rows(tmp_path):
    # The three-pass form of N = 131072 (N1 = 32 rows of N2 = 4096, outer
    # factor [32]) for a causal convolution of L = 65536 and a circular one
    # of L = 131072. Sample t = n1 N2 + n2: the causal input is zero in the
    # rows n1 >= 16, the upper half of the outer stage's digit, and its
    # outputs there are discarded. Its outer forward kernel (and K's, of
    # L taps) skips that 16-digit slab of products, its outer inverse the
    # row tile that writes only those rows: half of their MMAs at Split.
    # The inner kernels (the rows) are the same.
    causal, circular = plain_conv(65536, True), plain_conv(131072, False)
    for program in (causal, circular):
        convolution = program.manifest["convolutions"][0]
        assert convolution["form"] == "three-pass" and convolution["factors"][0] == 32
    for kernel in ("c_conv0_outer_forward", "c_conv0_outer_inverse", "c_conv0_spectrum_outer"):
        assert 2 * _mma_count(causal, kernel) == _mma_count(circular, kernel) > 0, kernel
    for kernel in ("c_conv0_inner", "c_conv0_spectrum_inner"):
        assert _mma_count(causal, kernel) == _mma_count(circular, kernel) > 0, kernel
    assemble(causal, tmp_path)


def band_graph(n, band, batch=2, channels=4):
    """irfft(channel_mul(rfft(u, n), rfft(k, n), band), n): a circular
    frequency-sparse convolution of period n, f32 (band None: none)."""
    g = Graph("band")
    u = g.input("u", (batch, channels, n), "f32")
    k = g.input("k", (channels, n), "f32")
    g.output(g.irfft(g.channel_mul(g.rfft(u, n), g.rfft(k, n), band=band), n))
    return g


def test_band_skips_the_spectrum_side_tiles(tmp_path):
    # N = 2048 (M = 1024 = 32 x 32) at Split precision: band 256 keeps the
    # last digits 0-7 and 24-31, one 16-digit tile of two. The last forward
    # stage computes one row tile of two, the first inverse stage reads one
    # slab of two: 2 x 24 of the 192 MMAs (240 in the code: the last stage,
    # which writes the outputs, has the block's 2 sequences unrolled). A
    # band of half the bins (512) touches every packed frequency (k and
    # M - k share one), so nothing is skipped; the spectrum kernel is the
    # same in all three.
    full, quarter, half = (fftconv.compile(band_graph(2048, band), target="sm_90") for band in (None, 256, 512))
    assert _mma_count(full, "band_conv0") == 240
    assert _mma_count(full, "band_conv0") - _mma_count(quarter, "band_conv0") == 48
    assert _mma_count(half, "band_conv0") == 240
    assert _mma_count(quarter, "band_conv0_spectrum") == _mma_count(full, "band_conv0_spectrum")
    assemble(quarter, tmp_path)
