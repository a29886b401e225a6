"""Every butterfly op executed on the CPU against python/fftconv/reference.py."""

import numpy as np
import pytest

from fftconv import cpu
from fftconv import reference as ref

C32 = "complex<f32>"


def random_complex(rng, shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)


@pytest.mark.parametrize("m", [2, 3, 16, 32])
@pytest.mark.parametrize("inverse", [False, True])
def test_dft(m, inverse):
    prog = cpu.Program()
    ty = cpu.tensor_type((m, m), C32)
    f = prog.op("butterfly.dft " + ("inverse " if inverse else "") + f": {ty}", ty)
    prog.output(f)
    (result,) = prog.run()
    assert ref.relative_error(result, ref.dft(m, inverse)) <= 1e-6


@pytest.mark.parametrize("m,stride,n", [(4, 1, 32), (4, 8, 32), (8, 2, 64), (3, 5, 30), (16, 16, 256)])
@pytest.mark.parametrize("learned", ["fixed", "shared", "blocks"])
def test_kron(rng, m, stride, n, learned):
    x = random_complex(rng, (2, n))
    prog = cpu.Program()
    ix = prog.input(x, C32)
    if learned == "fixed":
        factor = ref.dft(m)
        fty = cpu.tensor_type((m, m), C32)
        f = prog.op(f"butterfly.dft : {fty}", fty)
    else:
        shape = (m, m) if learned == "shared" else (n // (m * stride), m, m)
        factor = random_complex(rng, shape)
        f = prog.input(factor, C32)
        fty = prog.type_of(f)
    y = prog.op(f"butterfly.kron {f}, {ix} stride = {stride} : {fty}, {prog.type_of(ix)}", prog.type_of(ix))
    prog.output(y)
    (result,) = prog.run()
    assert ref.relative_error(result, ref.kron(factor, x, stride)) <= 1e-5


@pytest.mark.parametrize("rows,cols,n", [(4, 8, 32), (16, 16, 512), (3, 5, 15), (8, 4, 64)])
@pytest.mark.parametrize("inverse", [False, True])
def test_twiddle(rng, rows, cols, n, inverse):
    x = random_complex(rng, (3, n))
    prog = cpu.Program()
    ix = prog.input(x, C32)
    ty = prog.type_of(ix)
    y = prog.op(f"butterfly.twiddle {ix} rows = {rows}, cols = {cols}" + (" inverse" if inverse else "") + f" : {ty}", ty)
    prog.output(y)
    (result,) = prog.run()
    assert ref.relative_error(result, ref.twiddle(x, rows, cols, inverse)) <= 1e-6


@pytest.mark.parametrize("rows,cols,n", [(4, 8, 32), (16, 2, 64), (3, 5, 15)])
def test_permute(rng, rows, cols, n):
    x = random_complex(rng, (2, n))
    prog = cpu.Program()
    ix = prog.input(x, C32)
    ty = prog.type_of(ix)
    y = prog.op(f"butterfly.permute {ix} rows = {rows}, cols = {cols} : {ty}", ty)
    prog.output(y)
    (result,) = prog.run()
    # A permutation moves values exactly.
    np.testing.assert_array_equal(result, ref.permute(x, rows, cols).astype(np.complex64))


@pytest.mark.parametrize("factors", [[8], [4, 4], [16, 32], [4, 2, 8], [2, 3, 5], [16, 16, 16], [2, 2, 2, 2, 2]])
@pytest.mark.parametrize("inverse", [False, True])
@pytest.mark.parametrize("permuted", [False, True])
def test_monarch(rng, factors, inverse, permuted):
    n = int(np.prod(factors))
    x = random_complex(rng, (2, n))
    prog = cpu.Program()
    ix = prog.input(x, C32)
    ty = prog.type_of(ix)
    attrs = ("inverse " if inverse else "") + ("permuted " if permuted else "")
    y = prog.op(f"butterfly.monarch {ix} factors = [{', '.join(map(str, factors))}] {attrs}: {ty}", ty)
    prog.output(y)
    (result,) = prog.run()
    expected = ref.monarch(x, factors, inverse, permuted)
    assert ref.relative_error(result, expected) <= 1e-5 * np.log2(n)


def test_monarch_convolution_never_permutes(rng):
    # design.md: multiply in Monarch order, invert, and the result is the
    # circular convolution in natural order.
    factors, n = [16, 32], 512
    x = random_complex(rng, (2, n))
    k = random_complex(rng, (n,))
    kf_monarch = np.fft.fft(k)[ref.monarch_order(factors)]
    prog = cpu.Program()
    ix = prog.input(x, C32)
    ty = prog.type_of(ix)
    ik = prog.input(np.broadcast_to(kf_monarch, (2, n)), C32)
    spectrum = prog.op(f"butterfly.monarch {ix} factors = [16, 32] permuted : {ty}", ty)
    init = prog.op(f"tensor.empty() : {ty}", ty)
    product = prog.op(f"linalg.map {{ complex.mul }} ins({spectrum}, {ik} : {ty}, {ty}) outs({init} : {ty})", ty)
    y = prog.op(f"butterfly.monarch {product} factors = [16, 32] inverse permuted : {ty}", ty)
    prog.output(y)
    (result,) = prog.run()
    expected = np.fft.ifft(np.fft.fft(x) * np.fft.fft(k))
    assert ref.relative_error(result, expected) <= 1e-5 * np.log2(n)


@pytest.mark.parametrize("factors,nonzero,needed", [([32, 32], 500, 500), ([16, 8, 8], 100, 1000), ([64, 16], 1, 17)])
def test_monarch_known_zeros(rng, factors, nonzero, needed):
    # The first stage skips the blocks of known-zero inputs and the last
    # inverse stage computes only the blocks holding the needed outputs.
    n = int(np.prod(factors))
    x = random_complex(rng, (2, n))
    x[:, nonzero:] = 0
    prog = cpu.Program()
    ix = prog.input(x, C32)
    ty = prog.type_of(ix)
    fl = ", ".join(map(str, factors))
    s = prog.op(f"butterfly.monarch {ix} factors = [{fl}] permuted nonzero_inputs = {nonzero} : {ty}", ty)
    y = prog.op(f"butterfly.monarch {s} factors = [{fl}] inverse permuted needed_outputs = {needed} : {ty}", ty)
    prog.output(s)
    prog.output(y)
    spectrum, back = prog.run(extra_passes=["butterfly-expand-monarch"])
    assert ref.relative_error(spectrum, ref.monarch(x, factors, permuted=True)) <= 1e-5 * np.log2(n)
    assert ref.relative_error(back[:, :needed], x[:, :needed]) <= 1e-5 * np.log2(n)
