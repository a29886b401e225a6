"""The real-input trick's butterfly ops on the CPU against the oracle, and
the oracle's own algebra against numpy's rfft convolution."""

import numpy as np
import pytest

from fftconv import cpu
from fftconv import reference as ref

C32 = "complex<f32>"


def random_complex(rng, shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)


def tensor(shape, element=C32):
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


def run(op_text, inputs, result_type):
    """Runs `%y = <op_text>` on `inputs` ((array, element) pairs, the
    arguments %a0, %a1, ...); op_text holds {0}, {1}... for the operands'
    names and {n}, {n+1}... for their types."""
    types = [tensor(a.shape, e) for a, e in inputs]
    names = [f"%a{i}" for i in range(len(inputs))]
    args = ", ".join(f"{n}: {t}" for n, t in zip(names, types))
    (result,) = cpu.run(f"""
      func.func @op({args}) -> {result_type} {{
        %y = {op_text.format(*names, *types)}
        return %y : {result_type}
      }}""", [a for a, _ in inputs])
    return result


@pytest.mark.parametrize("length,half", [(64, 32), (50, 32), (7, 4), (1, 1)])
def test_pack_unpack(rng, length, half):
    x = rng.standard_normal((2, length)).astype(np.float32)
    zt = tensor((2, half), C32)
    z = run("butterfly.pack_real {0} : {1} -> " + zt, [(x, "f32")], zt)
    np.testing.assert_array_equal(z, ref.pack_real(x, half).astype(np.complex64))
    yt = tensor((2, length), "f32")
    y = run("butterfly.unpack_real {0} : {1} -> " + yt, [(z, C32)], yt)
    np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize("half", [1, 4, 16, 100])
@pytest.mark.parametrize("inverse", [False, True])
def test_real_spectrum(rng, half, inverse):
    width = half + 1 if inverse else half
    out = half if inverse else half + 1
    x = random_complex(rng, (3, width))
    rt = tensor((3, out), C32)
    y = run("butterfly.real_spectrum {0}" + (" inverse" if inverse else "") + " : {1} -> " + rt, [(x, C32)], rt)
    assert ref.relative_error(y, ref.real_spectrum(x, inverse)) <= 1e-6


def test_real_spectrum_is_rfft(rng):
    # Oracle algebra: real_spectrum(fft(pack_real(x))) == rfft(x), and the
    # inverse path reproduces irfft.
    x = rng.standard_normal((2, 64))
    z = np.fft.fft(ref.pack_real(x, 32))
    assert ref.relative_error(ref.real_spectrum(z), np.fft.rfft(x)) < 1e-13
    spectrum = np.fft.rfft(x) + 0.5j  # imaginary parts of bins 0, M ignored
    back = ref.unpack_real(np.fft.ifft(ref.real_spectrum(spectrum, inverse=True)), 64)
    assert ref.relative_error(back, np.fft.irfft(spectrum, 64)) < 1e-13


@pytest.mark.parametrize("half", [1, 8, 64])
def test_conv_spectrum(rng, half):
    kf = random_complex(rng, (3, half + 1))
    rt = tensor((3, 2, half), C32)
    y = run("butterfly.conv_spectrum {0} : {1} -> " + rt, [(kf, C32)], rt)
    assert ref.relative_error(y, ref.conv_spectrum(kf)) <= 1e-6


@pytest.mark.parametrize("factors", [None, [8], [4, 4], [4, 2, 8], [2, 3, 5]])
def test_hermitian_mul(rng, factors):
    half = int(np.prod(factors)) if factors else 12
    x = random_complex(rng, (2, 3, half))
    c = random_complex(rng, (3, 2, half))
    attr = f" factors = [{', '.join(map(str, factors))}]" if factors else ""
    rt = tensor((2, 3, half), C32)
    y = run("butterfly.hermitian_mul {0}, {1}" + attr + " : {2}, {3}", [(x, C32), (c, C32)], rt)
    assert ref.relative_error(y, ref.hermitian_mul(x, c, factors)) <= 1e-6


@pytest.mark.parametrize("factors", [None, [4, 8]])
def test_half_size_convolution_algebra(rng, factors):
    # The oracle's statement of the whole trick: pack, DFT_M, hermitian_mul
    # with conv_spectrum(rfft(k, 2M)), inverse DFT_M, unpack == circular
    # convolution of length 2M.
    half, taps = 32, 20
    v = rng.standard_normal((2, 3, 2 * half))
    k = rng.standard_normal((3, taps))
    coefficients = ref.conv_spectrum(np.fft.rfft(k, 2 * half))
    z = np.fft.fft(ref.pack_real(v, half))
    if factors:
        order = ref.monarch_order(factors)
        z, coefficients = z[..., order], coefficients[..., order]
    zy = ref.hermitian_mul(z, coefficients, factors)
    if factors:
        natural = np.empty_like(zy)
        natural[..., order] = zy
        zy = natural
    y = ref.unpack_real(np.fft.ifft(zy), 2 * half)
    kpad = np.zeros((3, 2 * half))
    kpad[:, :taps] = k
    expected = np.fft.irfft(np.fft.rfft(v) * np.fft.rfft(kpad), 2 * half)
    assert ref.relative_error(y, expected) < 1e-12
