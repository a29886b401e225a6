"""Every butterfly op executed on the CPU against python/fftconv/reference.py."""

import numpy as np
import pytest

from fftconv import cpu
from fftconv import reference as ref


def tensor(shape, element="complex<f32>"):
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


def random_complex(rng, shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)


@pytest.mark.parametrize("m", [2, 3, 16, 32])
@pytest.mark.parametrize("inverse", [False, True])
def test_dft(m, inverse):
    t = tensor((m, m))
    (result,) = cpu.run(f"""
      func.func @dft() -> {t} {{
        %f = butterfly.dft {"inverse " if inverse else ""}: {t}
        return %f : {t}
      }}""", [])
    assert ref.relative_error(result, ref.dft(m, inverse)) <= 1e-6


@pytest.mark.parametrize("m,stride,n", [(4, 1, 32), (4, 8, 32), (8, 2, 64), (3, 5, 30), (16, 16, 256)])
@pytest.mark.parametrize("learned", ["fixed", "shared", "blocks"])
def test_kron(rng, m, stride, n, learned):
    x = random_complex(rng, (2, n))
    xt = tensor(x.shape)
    if learned == "fixed":
        factor = ref.dft(m)
        ft = tensor((m, m))
        (result,) = cpu.run(f"""
          func.func @kron(%x: {xt}) -> {xt} {{
            %f = butterfly.dft : {ft}
            %y = butterfly.kron %f, %x stride = {stride} : {ft}, {xt}
            return %y : {xt}
          }}""", [x])
    else:
        shape = (m, m) if learned == "shared" else (n // (m * stride), m, m)
        factor = random_complex(rng, shape)
        ft = tensor(shape)
        (result,) = cpu.run(f"""
          func.func @kron(%f: {ft}, %x: {xt}) -> {xt} {{
            %y = butterfly.kron %f, %x stride = {stride} : {ft}, {xt}
            return %y : {xt}
          }}""", [factor, x])
    assert ref.relative_error(result, ref.kron(factor, x, stride)) <= 1e-5


@pytest.mark.parametrize("rows,cols,n", [(4, 8, 32), (16, 16, 512), (3, 5, 15), (8, 4, 64)])
@pytest.mark.parametrize("inverse", [False, True])
def test_twiddle(rng, rows, cols, n, inverse):
    x = random_complex(rng, (3, n))
    t = tensor(x.shape)
    (result,) = cpu.run(f"""
      func.func @twiddle(%x: {t}) -> {t} {{
        %y = butterfly.twiddle %x rows = {rows}, cols = {cols}{" inverse" if inverse else ""} : {t}
        return %y : {t}
      }}""", [x])
    assert ref.relative_error(result, ref.twiddle(x, rows, cols, inverse)) <= 1e-6


@pytest.mark.parametrize("rows,cols,n", [(4, 8, 32), (16, 2, 64), (3, 5, 15)])
def test_permute(rng, rows, cols, n):
    x = random_complex(rng, (2, n))
    t = tensor(x.shape)
    (result,) = cpu.run(f"""
      func.func @permute(%x: {t}) -> {t} {{
        %y = butterfly.permute %x rows = {rows}, cols = {cols} : {t}
        return %y : {t}
      }}""", [x])
    # A permutation moves values exactly.
    np.testing.assert_array_equal(result, ref.permute(x, rows, cols).astype(np.complex64))


@pytest.mark.parametrize("factors", [[8], [4, 4], [16, 32], [4, 2, 8], [2, 3, 5], [16, 16, 16], [2, 2, 2, 2, 2]])
@pytest.mark.parametrize("inverse", [False, True])
@pytest.mark.parametrize("permuted", [False, True])
def test_monarch(rng, factors, inverse, permuted):
    n = int(np.prod(factors))
    x = random_complex(rng, (2, n))
    t = tensor(x.shape)
    attrs = ("inverse " if inverse else "") + ("permuted " if permuted else "")
    (result,) = cpu.run(f"""
      func.func @monarch(%x: {t}) -> {t} {{
        %y = butterfly.monarch %x factors = {factors} {attrs}: {t}
        return %y : {t}
      }}""", [x])
    expected = ref.monarch(x, factors, inverse, permuted)
    assert ref.relative_error(result, expected) <= 1e-5 * np.log2(n)


def test_monarch_convolution_never_permutes(rng):
    # design.md: multiply in Monarch order, invert, and the result is the
    # circular convolution in natural order.
    factors, n = [16, 32], 512
    x = random_complex(rng, (2, n))
    k = random_complex(rng, (n,))
    kf_monarch = np.fft.fft(k)[ref.monarch_order(factors)]
    (result,) = cpu.run("""
      func.func @conv(%x: tensor<2x512xcomplex<f32>>, %kf: tensor<2x512xcomplex<f32>>) -> tensor<2x512xcomplex<f32>> {
        %spectrum = butterfly.monarch %x factors = [16, 32] permuted : tensor<2x512xcomplex<f32>>
        %init = tensor.empty() : tensor<2x512xcomplex<f32>>
        %product = linalg.map { complex.mul } ins(%spectrum, %kf : tensor<2x512xcomplex<f32>>, tensor<2x512xcomplex<f32>>)
                                              outs(%init : tensor<2x512xcomplex<f32>>)
        %y = butterfly.monarch %product factors = [16, 32] inverse permuted : tensor<2x512xcomplex<f32>>
        return %y : tensor<2x512xcomplex<f32>>
      }""", [x, np.broadcast_to(kf_monarch, (2, n))])
    expected = np.fft.ifft(np.fft.fft(x) * np.fft.fft(k))
    assert ref.relative_error(result, expected) <= 1e-5 * np.log2(n)


@pytest.mark.parametrize("factors,nonzero,needed", [([32, 32], 500, 500), ([16, 8, 8], 100, 1000), ([64, 16], 1, 17)])
def test_monarch_known_zeros(rng, factors, nonzero, needed):
    # The first stage skips the blocks of known-zero inputs and the last
    # inverse stage computes only the blocks holding the needed outputs.
    n = int(np.prod(factors))
    x = random_complex(rng, (2, n))
    x[:, nonzero:] = 0
    t = tensor(x.shape)
    spectrum, back = cpu.run(f"""
      func.func @zeros(%x: {t}) -> ({t}, {t}) {{
        %s = butterfly.monarch %x factors = {factors} permuted nonzero_inputs = {nonzero} : {t}
        %y = butterfly.monarch %s factors = {factors} inverse permuted needed_outputs = {needed} : {t}
        return %s, %y : {t}, {t}
      }}""", [x], passes=["butterfly-expand-monarch"])
    assert ref.relative_error(spectrum, ref.monarch(x, factors, permuted=True)) <= 1e-5 * np.log2(n)
    assert ref.relative_error(back[:, :needed], x[:, :needed]) <= 1e-5 * np.log2(n)


# butterfly-to-vector (fftconv-to-cpu's default lowering of monarch ops)
# at every vector width, against the float64 reference: lanes along the
# stride, along the blocks (the last stage), and narrower than a vector.
@pytest.mark.parametrize("factors", [[2], [4, 2], [8, 8], [32, 16, 8], [4, 32, 32], [2, 2, 2, 2, 2], [16, 4]])
@pytest.mark.parametrize("width", [1, 4, 16])
@pytest.mark.parametrize("inverse,permuted", [(False, False), (False, True), (True, False), (True, True)])
def test_monarch_codelets(rng, factors, width, inverse, permuted):
    n = int(np.prod(factors))
    x = random_complex(rng, (3, n))
    t = tensor(x.shape)
    attrs = ("inverse " if inverse else "") + ("permuted " if permuted else "")
    program = f"""
      func.func @monarch(%x: {t}) -> {t} {{
        %y = butterfly.monarch %x factors = {factors} {attrs}: {t}
        return %y : {t}
      }}"""
    passes = [f"butterfly-to-vector{{vector-width={width}}}"]
    assert "butterfly.monarch" not in cpu.compile_text(program, passes)
    (result,) = cpu.run(program, [x], passes=passes)
    expected = ref.monarch(x, factors, inverse, permuted)
    assert ref.relative_error(result, expected) <= 1e-5 * np.log2(2 * n)


@pytest.mark.parametrize("shape", [(512,), (2, 3, 512)])
def test_monarch_codelets_rows(rng, shape):
    # Rows are every leading dimension; a rank-1 tensor is one row.
    x = random_complex(rng, shape)
    t = tensor(shape)
    (result,) = cpu.run(f"""
      func.func @monarch(%x: {t}) -> {t} {{
        %y = butterfly.monarch %x factors = [32, 16] : {t}
        return %y : {t}
      }}""", [x])
    assert ref.relative_error(result, np.fft.fft(x.astype(np.complex128))) <= 1e-5 * 9


@pytest.mark.parametrize("factors,nonzero,needed", [([32, 32], 500, 500), ([16, 8, 8], 100, 1000), ([32, 16], 1, 17)])
def test_monarch_codelets_known_zeros(rng, factors, nonzero, needed):
    # The codelets never read the first stage's blocks past nonzero_inputs
    # (garbage there changes nothing) and write only the needed outputs'
    # blocks.
    n = int(np.prod(factors))
    block = n // factors[0]
    x = random_complex(rng, (2, n))
    x[:, nonzero : -(-nonzero // block) * block] = 0
    zeroed = x.copy()
    zeroed[:, nonzero:] = 0
    t = tensor(x.shape)
    # Separate functions: the inverse of the forward would fold away.
    (spectrum,) = cpu.run(f"""
      func.func @forward(%x: {t}) -> {t} {{
        %s = butterfly.monarch %x factors = {factors} permuted nonzero_inputs = {nonzero} : {t}
        return %s : {t}
      }}""", [x])
    expected = ref.monarch(zeroed, factors, permuted=True)
    assert ref.relative_error(spectrum, expected) <= 1e-5 * np.log2(n)
    (back,) = cpu.run(f"""
      func.func @inverse(%s: {t}) -> {t} {{
        %y = butterfly.monarch %s factors = {factors} inverse permuted needed_outputs = {needed} : {t}
        return %y : {t}
      }}""", [expected.astype(np.complex64)])
    assert ref.relative_error(back[:, :needed], zeroed[:, :needed]) <= 1e-5 * np.log2(n)


@pytest.mark.parametrize("factors", [None, [32, 16], [8, 4, 16]])
def test_packed_conv_spectrum(rng, factors):
    # The coefficients of conv_spectrum(real_spectrum(Z)) from Z itself, in
    # natural order or in the Monarch order of `factors` (in and out).
    half = 512
    k = rng.standard_normal((3, 2 * half)).astype(np.float32)
    z = np.fft.fft(k[:, 0::2] + 1j * k[:, 1::2])
    expected = ref.conv_spectrum(ref.real_spectrum(z))
    attr = ""
    if factors:
        order = ref.monarch_order(factors)
        z, expected = z[:, order], expected[..., order]
        attr = f"factors = {factors} "
    t, c = tensor((3, half)), tensor((3, 2, half))
    (result,) = cpu.run(f"""
      func.func @packed(%z: {t}) -> {c} {{
        %c = butterfly.packed_conv_spectrum %z {attr}: {t} -> {c}
        return %c : {c}
      }}""", [z.astype(np.complex64)])
    assert ref.relative_error(result, expected) <= 1e-6


@pytest.mark.parametrize("length", [63, 64, 40])
def test_monarch_codelets_real_rows(rng, length):
    # pack_real and unpack_real fused into the codelets' split and join: an
    # odd length, a full one, and one with zero padding past it.
    x = rng.standard_normal((3, length)).astype(np.float32)
    rt, ct = tensor((3, length), "f32"), tensor((3, 32))
    (spectrum,) = cpu.run(f"""
      func.func @forward(%x: {rt}) -> {ct} {{
        %z = butterfly.pack_real %x : {rt} -> {ct}
        %s = butterfly.monarch %z factors = [8, 4] : {ct}
        return %s : {ct}
      }}""", [x])
    padded = np.zeros((3, 64))
    padded[:, :length] = x
    packed = padded[:, 0::2] + 1j * padded[:, 1::2]
    assert ref.relative_error(spectrum, np.fft.fft(packed)) <= 1e-6
    (back,) = cpu.run(f"""
      func.func @inverse(%s: {ct}) -> {rt} {{
        %z = butterfly.monarch %s factors = [8, 4] inverse : {ct}
        %y = butterfly.unpack_real %z : {ct} -> {rt}
        return %y : {rt}
      }}""", [np.fft.fft(packed).astype(np.complex64)])
    assert ref.relative_error(back, x) <= 1e-6
