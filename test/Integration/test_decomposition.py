"""Convolutions through the whole compiler (fftconv-to-butterfly: expansion
into FFT form, order-p Monarch decomposition, fusion), lowered to the CPU,
against the float64 oracle.

The sweep over N = 2^4 ... 2^20 and every order allowed at each N runs with
FFTCONV_FULL_SWEEP=1 (see docs/passes.md); by default CI runs N <= 2^12 with
every order and a sample of the larger sizes.
"""

import os
import re

import numpy as np
import pytest

from fftconv import cpu
from fftconv import reference as ref

FULL = os.environ.get("FFTCONV_FULL_SWEEP") == "1"
TOLERANCE = {"f16": 1e-3, "bf16": 8e-3}


def tensor(shape, element):
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


def allowed_orders():
    """{N: orders the cost model accepts for an f32 convolution of FFT size
    N on sm_90}, read from fftconv-cost-table."""
    tables = {p: cpu.cost_table(order=p, complex_bytes=8, max_log2=20) for p in (1, 2, 3, 4)}
    return {n: [p for p in tables if tables[p][n]["fused factors"]] for n in tables[1]}


def sweep_cases():
    allowed = allowed_orders()
    for log2n in range(4, 21):
        orders = allowed[2**log2n]
        assert orders, f"no order accepted at N = {2**log2n}"
        for order in orders:
            sampled = log2n <= 12 or (log2n in (16, 20) and order == max(orders))
            marks = [] if (FULL or sampled) else [pytest.mark.skip(reason="set FFTCONV_FULL_SWEEP=1")]
            yield pytest.param(log2n, order, marks=marks, id=f"N{2**log2n}-p{order}")


@pytest.mark.parametrize("log2n,order", list(sweep_cases()))
def test_sweep(rng, log2n, order):
    # Causal with K = L = N/2: the FFT size is exactly N.
    n = 2**log2n
    length = n // 2
    u = rng.standard_normal((1, 2, length)).astype(np.float32)
    k = rng.standard_normal((2, length)).astype(np.float32)
    passes = [cpu.butterfly_pipeline(order=order, chip="sm_90")]
    (y,) = cpu.conv_program("f32", "causal", u, k).run(extra_passes=passes)
    err = ref.relative_error(y, ref.conv(u, k, "causal"))
    assert err <= 1e-5 * log2n, f"relative error {err:.3e}"


@pytest.mark.parametrize("log2n", [4, 5, 9, 12, 13, 16, 18])
def test_cpu_factors(rng, log2n):
    # chip=cpu: no outer passes, factors butterfly-to-vector's codelets run
    # (powers of two up to 32), the fewest of them, the last nearest 8.
    n = 2**log2n
    length = n // 2
    u = rng.standard_normal((1, 2, length)).astype(np.float32)
    k = rng.standard_normal((2, length)).astype(np.float32)
    prog = cpu.conv_program("f32", "causal", u, k)
    passes = [cpu.butterfly_pipeline(chip="cpu")]
    ir = cpu.compile_text(prog.module(), passes)
    assert "outer_forward" not in ir
    factors = [int(f) for f in re.search(r"factors = \[([0-9, ]+)\]", ir).group(1).split(",")]
    assert int(np.prod(factors)) == length
    assert all(f <= 32 and f & (f - 1) == 0 for f in factors), factors
    assert len(factors) == max(1, -(-(log2n - 1) // 5)), factors
    (y,) = prog.run(extra_passes=passes)
    err = ref.relative_error(y, ref.conv(u, k, "causal"))
    assert err <= 1e-5 * log2n, f"relative error {err:.3e}"


@pytest.mark.parametrize(
    "mode,length,taps",
    [
        ("causal", 1000, 1000),  # L not a power of two
        ("causal", 1000, 77),  # partial kernel
        ("circular", 1000, 1000),  # circular, not a power of two: wrap-around
        ("circular", 1000, 300),
        ("circular", 512, 100),  # circular at N = L
        ("causal", 1, 1),
        ("causal", 3, 2),
    ],
)
@pytest.mark.parametrize("gated", [False, True])
@pytest.mark.parametrize("with_skip", [False, True])
def test_forms(rng, mode, length, taps, gated, with_skip):
    u = rng.standard_normal((2, 3, length)).astype(np.float32)
    k = rng.standard_normal((3, taps)).astype(np.float32)
    pre = post = d = None
    if gated:
        pre = rng.standard_normal((2, 3, length)).astype(np.float32)
        post = rng.standard_normal((2, 3, length)).astype(np.float32)
    if with_skip:
        d = rng.standard_normal(3).astype(np.float32)
    (y,) = cpu.conv_program("f32", mode, u, k, pre, post, d).run(extra_passes=[cpu.butterfly_pipeline()])
    err = ref.relative_error(y, ref.conv(u, k, mode, pre, post, d))
    assert err <= 1e-5 * 11, f"relative error {err:.3e}"


@pytest.mark.parametrize("dtype", ["f16", "bf16"])
def test_half_precision(rng, dtype):
    u = ref.round_to(rng.standard_normal((2, 4, 2048)), dtype)
    g1 = ref.round_to(rng.standard_normal((2, 4, 2048)), dtype)
    g2 = ref.round_to(rng.standard_normal((2, 4, 2048)), dtype)
    k = ref.round_to(rng.standard_normal((4, 2048)) * np.exp(-np.arange(2048) / 256) / 8, "f32")
    d = ref.round_to(rng.standard_normal(4), "f32")
    (y,) = cpu.conv_program(dtype, "causal", u, k, g1, g2, d).run(extra_passes=[cpu.butterfly_pipeline()])
    err = ref.relative_error(y, ref.conv(u, k, "causal", g1, g2, d))
    assert err <= TOLERANCE[dtype], f"relative error {err:.3e}"


@pytest.mark.parametrize("smem,chip", [(4096, "sm_90"), (16384, "sm_80"), (1024, "sm_90")])
def test_three_pass_form(rng, smem, chip):
    # A small shared-memory budget forces outer passes through memory.
    u = rng.standard_normal((2, 2, 2048)).astype(np.float32)
    k = rng.standard_normal((2, 2048)).astype(np.float32)
    prog = cpu.conv_program("f32", "causal", u, k)
    passes = [cpu.butterfly_pipeline(chip=chip, smem_per_block=smem)]
    (y,) = prog.run(extra_passes=passes)
    assert ref.relative_error(y, ref.conv(u, k, "causal")) <= 1e-5 * 12
    assert "outer_forward" in cpu.compile_text(prog.module(), passes)


def test_constant_kernel_spectrum_folds(rng):
    # k_f of a constant kernel is computed at compile time: no rfft, no
    # conv_spectrum, no permute remains; the result is still right.
    u = rng.standard_normal((2, 2, 256)).astype(np.float32)
    k = rng.standard_normal((2, 256)).astype(np.float32)
    prog = cpu.conv_program("f32", "causal", u, k, constant_kernel=True)
    passes = [cpu.butterfly_pipeline()]
    ir = cpu.compile_text(prog.module(), passes)
    for op in ("fftconv.rfft", "butterfly.conv_spectrum", "butterfly.permute"):
        assert op not in ir, op
    (y,) = prog.run(extra_passes=passes)
    assert ref.relative_error(y, ref.conv(u, k, "causal")) <= 1e-5 * 9


@pytest.mark.parametrize("op,n,length", [("fft", 64, 64), ("ifft", 128, 100), ("fft", 96, 120), ("rfft", 64, 50), ("irfft", 64, 33), ("irfft", 30, 16), ("rfft", 4096, 4096)])
@pytest.mark.parametrize("order", ["auto", "2"])
def test_standalone_transforms(rng, op, n, length, order):
    if op == "rfft":
        x = rng.standard_normal((2, length)).astype(np.float32)
        in_t, out_t = tensor((2, length), "f32"), tensor((2, n // 2 + 1), "complex<f32>")
    elif op == "irfft":
        x = (rng.standard_normal((2, length)) + 1j * rng.standard_normal((2, length))).astype(np.complex64)
        in_t, out_t = tensor((2, length), "complex<f32>"), tensor((2, n), "f32")
    else:
        x = (rng.standard_normal((2, length)) + 1j * rng.standard_normal((2, length))).astype(np.complex64)
        in_t, out_t = tensor((2, length), "complex<f32>"), tensor((2, n), "complex<f32>")
    text = f"""
      func.func @transform(%x: {in_t}) -> {out_t} {{
        %y = fftconv.{op} %x n = {n} : {in_t} -> {out_t}
        return %y : {out_t}
      }}"""
    passes = [f"fftconv-monarch-decompose{{order={order}}}"]
    if n % 2 == 0 or op in ("fft", "ifft"):
        assert f"fftconv.{op}" not in cpu.compile_text(text, passes)
    (result,) = cpu.run(text, [x], passes=passes)
    expected = getattr(ref, op)(x, n)
    assert ref.relative_error(result, expected) <= 1e-5 * np.log2(n)


@pytest.mark.parametrize("n,band", [(2048, 100), (2048, 600), (512, 1), (8192, 1000)])
def test_frequency_sparse(rng, n, band):
    # A frequency-sparse convolution written in FFT form: the kernel's
    # spectrum passes only its `band` lowest frequencies. The decomposition
    # skips the spectrum-side blocks that hold no such frequency.
    length = n // 2
    v = rng.standard_normal((2, 3, length)).astype(np.float32)
    # Any complex spectrum: irfft ignores the imaginary parts of bins 0 and
    # N/2 of the product, and so does the decomposition.
    kf = (rng.standard_normal((3, n // 2 + 1)) + 1j * rng.standard_normal((3, n // 2 + 1))).astype(np.complex64)
    bins = n // 2 + 1
    vt, kt = tensor(v.shape, "f32"), tensor(kf.shape, "complex<f32>")
    spec_t, out_t = tensor((2, 3, bins), "complex<f32>"), tensor((2, 3, n), "f32")
    text = f"""
      func.func @sparse(%v: {vt}, %kf: {kt}) -> {out_t} {{
        %vf = fftconv.rfft %v n = {n} : {vt} -> {spec_t}
        %p = fftconv.channel_mul %vf, %kf band = {band} : {spec_t}, {kt}
        %y = fftconv.irfft %p n = {n} : {spec_t} -> {out_t}
        return %y : {out_t}
      }}"""
    passes = ["fftconv-monarch-decompose", "canonicalize", "butterfly-fuse-conv"]
    ir = cpu.compile_text(text, passes)
    if 2 * band < n // 2:
        assert "spectral_band" in ir
    (result,) = cpu.run(text, [v, kf], passes=passes)
    expected = np.fft.irfft(ref.channel_mul(np.fft.rfft(v, n), kf, band), n)
    assert ref.relative_error(result, expected) <= 1e-5 * np.log2(n)
    # The same stage skipping survives expansion into krons.
    (expanded,) = cpu.run(text, [v, kf], passes=passes + ["butterfly-expand-monarch"])
    assert ref.relative_error(expanded, expected) <= 1e-5 * np.log2(n)


@pytest.mark.parametrize("n,length", [(64, 100), (256, 300), (8192, 10000)])
def test_conv_form_crops_a_longer_input(rng, n, length):
    # rfft crops an input longer than n. The decomposition of the rfft,
    # channel_mul, irfft chain fed that input to pack_real (which takes at
    # most n values) uncropped: invalid IR, found by scripts/fuzz.py.
    v = rng.standard_normal((2, 3, length)).astype(np.float32)
    bins = n // 2 + 1
    kf = (rng.standard_normal((3, bins)) + 1j * rng.standard_normal((3, bins))).astype(np.complex64)
    vt, kt = tensor(v.shape, "f32"), tensor(kf.shape, "complex<f32>")
    spec_t, out_t = tensor((2, 3, bins), "complex<f32>"), tensor((2, 3, n), "f32")
    text = f"""
      func.func @cropped(%v: {vt}, %kf: {kt}) -> {out_t} {{
        %vf = fftconv.rfft %v n = {n} : {vt} -> {spec_t}
        %p = fftconv.channel_mul %vf, %kf : {spec_t}, {kt}
        %y = fftconv.irfft %p n = {n} : {spec_t} -> {out_t}
        return %y : {out_t}
      }}"""
    passes = ["fftconv-monarch-decompose", "canonicalize", "butterfly-fuse-conv"]
    assert "butterfly.pack_real" in cpu.compile_text(text, passes)
    (result,) = cpu.run(text, [v, kf], passes=passes)
    expected = np.fft.irfft(np.fft.rfft(v, n) * kf, n)
    assert ref.relative_error(result, expected) <= 1e-5 * np.log2(n)
