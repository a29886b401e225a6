"""butterfly.monarch_linear, the learned butterfly, on the CPU against the
oracle; as a linear layer, and as the DFT when its blocks are DFT factors."""

import numpy as np
import pytest

from fftconv import cpu
from fftconv import reference as ref


def tensor(shape, element):
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


def run_linear(x, weights, element):
    xt = tensor(x.shape, element)
    wts = [tensor(w.shape, element) for w in weights]
    args = ", ".join([f"%x: {xt}"] + [f"%w{i}: {t}" for i, t in enumerate(wts)])
    names = ", ".join(f"%w{i}" for i in range(len(weights)))
    (result,) = cpu.run(f"""
      func.func @linear({args}) -> {xt} {{
        %y = butterfly.monarch_linear %x, [{names}] : {xt}, [{", ".join(wts)}]
        return %y : {xt}
      }}""", [x, *weights])
    return result


@pytest.mark.parametrize("sizes", [[32, 32], [16, 8, 4], [8, 8, 8, 2], [64]])
def test_real_layer(rng, sizes):
    n = int(np.prod(sizes))
    x = rng.standard_normal((4, n)).astype(np.float32)
    weights = [(rng.standard_normal((n // m, m, m)) / np.sqrt(m)).astype(np.float32) for m in sizes]
    y = run_linear(x, weights, "f32")
    assert ref.relative_error(y, ref.monarch_linear(x, weights)) <= 1e-5


def test_is_a_linear_map_with_fewer_parameters(rng):
    # The layer is the matrix M whose columns are its images of the unit
    # vectors; order 2 at N = 1024 holds 2 N sqrt(N) = 65536 parameters
    # against N^2 = 1048576 for a dense layer.
    sizes = [32, 32]
    n = 1024
    weights = [(rng.standard_normal((n // m, m, m)) / np.sqrt(m)).astype(np.float32) for m in sizes]
    matrix = ref.monarch_linear(np.eye(n), weights).T
    x = rng.standard_normal((3, n)).astype(np.float32)
    y = run_linear(x, weights, "f32")
    assert ref.relative_error(y, x.astype(np.float64) @ matrix.T) <= 1e-5
    assert sum(w.size for w in weights) == 2 * n * 32


@pytest.mark.parametrize("factors", [[4, 4], [16, 32], [4, 2, 8]])
def test_dft_weights_give_the_dft(rng, factors):
    n = int(np.prod(factors))
    x = (rng.standard_normal((2, n)) + 1j * rng.standard_normal((2, n))).astype(np.complex64)
    weights = [w.astype(np.complex64) for w in ref.dft_monarch_weights(factors)]
    y = run_linear(x, weights, "complex<f32>")
    expected = np.fft.fft(x)[..., ref.monarch_order(factors)]
    assert ref.relative_error(y, expected) <= 1e-5 * np.log2(n)
    # The oracle agrees with itself.
    assert ref.relative_error(ref.monarch_linear(x, weights), expected) < 1e-6
