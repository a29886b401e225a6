"""Every fftconv op executed on the CPU against python/fftconv/reference.py."""

import numpy as np
import pytest

from fftconv import cpu
from fftconv import reference as ref

# Relative-error bounds: f32 per the foundation issue; f16 and bf16 hold the
# result's own rounding (half an ulp: 2^-11 and 2^-8) with margin.
TOLERANCE = {"f32": 1e-5, "f16": 1e-3, "bf16": 8e-3}


@pytest.mark.parametrize("dtype", ["f32", "f16", "bf16"])
@pytest.mark.parametrize("mode", ["causal", "circular"])
@pytest.mark.parametrize(
    "shape",
    [
        (2, 3, 64, 64),  # K = L, power of two
        (2, 3, 100, 37),  # L not a power of two, partial kernel K < L
        (1, 4, 257, 1),  # single tap
    ],
)
@pytest.mark.parametrize("gated,with_skip", [(False, False), (True, False), (False, True), (True, True)])
def test_conv(rng, dtype, mode, shape, gated, with_skip):
    b, h, length, taps = shape
    u = ref.round_to(rng.standard_normal((b, h, length)), dtype)
    k = ref.round_to(rng.standard_normal((h, taps)), "f32")
    pre = post = d = None
    if gated:
        pre = ref.round_to(rng.standard_normal((b, h, length)), dtype)
        post = ref.round_to(rng.standard_normal((b, h, length)), dtype)
    if with_skip:
        d = ref.round_to(rng.standard_normal(h), "f32")
    (y,) = cpu.conv_program(dtype, mode, u, k, pre, post, d).run()
    expected = ref.conv(u, k, mode, pre, post, d)
    err = ref.relative_error(y, expected)
    assert err <= TOLERANCE[dtype], f"relative error {err:.3e}"


def test_oracle_matches_direct_convolution(rng):
    # The oracle's FFT formulation against the textbook double loop.
    u = rng.standard_normal((2, 3, 50))
    k = rng.standard_normal((3, 17))
    for mode in ("causal", "circular"):
        assert ref.relative_error(ref.conv(u, k, mode), ref.conv_direct(u, k, mode)) < 1e-12


def tensor(shape, element):
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


def run_unary(op, x, element, result_type):
    """Runs `%y = <op> %x : ...` (op holds the op's text with {t} for x's
    type) on x; returns y."""
    t = tensor(x.shape, element)
    (result,) = cpu.run(f"""
      func.func @unary(%x: {t}) -> {result_type} {{
        %y = {op.format(t=t)}
        return %y : {result_type}
      }}""", [x])
    return result


@pytest.mark.parametrize("op", ["fft", "ifft"])
@pytest.mark.parametrize("length,n", [(64, 64), (48, 64), (80, 64), (30, 30), (17, 17)])
def test_complex_fft(rng, op, length, n):
    x = (rng.standard_normal((3, length)) + 1j * rng.standard_normal((3, length))).astype(np.complex64)
    result_type = tensor((3, n), "complex<f32>")
    y = run_unary(f"fftconv.{op} %x n = {n} : {{t}} -> {result_type}", x, "complex<f32>", result_type)
    expected = getattr(ref, op)(x, n)
    assert ref.relative_error(y, expected) <= 1e-5


@pytest.mark.parametrize("length,n", [(64, 64), (32, 64), (100, 64), (33, 33), (2, 5)])
def test_rfft(rng, length, n):
    x = rng.standard_normal((2, 3, length)).astype(np.float32)
    result_type = tensor((2, 3, n // 2 + 1), "complex<f32>")
    y = run_unary(f"fftconv.rfft %x n = {n} : {{t}} -> {result_type}", x, "f32", result_type)
    assert ref.relative_error(y, ref.rfft(x, n)) <= 1e-5


@pytest.mark.parametrize("bins,n", [(33, 64), (20, 64), (40, 64), (17, 33), (17, 32)])
def test_irfft(rng, bins, n):
    x = (rng.standard_normal((3, bins)) + 1j * rng.standard_normal((3, bins))).astype(np.complex64)
    result_type = tensor((3, n), "f32")
    y = run_unary(f"fftconv.irfft %x n = {n} : {{t}} -> {result_type}", x, "complex<f32>", result_type)
    assert ref.relative_error(y, ref.irfft(x, n)) <= 1e-5


@pytest.mark.parametrize("lam", ["0.0", "0.3", "1.5"])
def test_squash(rng, lam):
    k = rng.standard_normal((4, 129)).astype(np.float32)
    ty = tensor(k.shape, "f32")
    y = run_unary(f"fftconv.squash %x lambda = {lam} : {{t}}", k, "f32", ty)
    expected = ref.squash(k, np.float32(lam))
    assert ref.relative_error(y, expected) <= 1e-6
    if float(lam) > 0:
        # Taps below the threshold are exactly zero, not merely small.
        assert np.all(y[np.abs(k) <= np.float32(lam)] == 0.0)


@pytest.mark.parametrize("width", [1, 3, 7, 31])
def test_smooth(rng, width):
    k = rng.standard_normal((3, 50)).astype(np.float32)
    ty = tensor(k.shape, "f32")
    y = run_unary(f"fftconv.smooth %x width = {width} : {{t}}", k, "f32", ty)
    assert ref.relative_error(y, ref.smooth(k, width)) <= 1e-6


def test_regularized_kernel_feeds_conv(rng):
    # FlashButterfly's use: smooth and squash the kernel, then convolve.
    u = rng.standard_normal((2, 3, 96)).astype(np.float32)
    k = rng.standard_normal((3, 96)).astype(np.float32)
    (result,) = cpu.run("""
      func.func @regularized(%u: tensor<2x3x96xf32>, %k: tensor<3x96xf32>) -> tensor<2x3x96xf32> {
        %sm = fftconv.smooth %k width = 5 : tensor<3x96xf32>
        %sq = fftconv.squash %sm lambda = 0.1 : tensor<3x96xf32>
        %y = fftconv.conv causal %u, %sq : (tensor<2x3x96xf32>, tensor<3x96xf32>) -> tensor<2x3x96xf32>
        return %y : tensor<2x3x96xf32>
      }""", [u, k])
    expected = ref.conv(u, ref.squash(ref.smooth(k, 5), np.float32(0.1)), "causal")
    assert ref.relative_error(result, expected) <= 1e-5
