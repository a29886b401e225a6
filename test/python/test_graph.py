"""The graph builder: every fftconv op built through the C API's builders,
the verifier's located errors, the printed program, and CPU execution
against the oracle."""

import os
import re
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

import fftconv  # noqa: E402
from fftconv import reference as ref  # noqa: E402
from fftconv.graph import Graph  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(11)


def hyena_graph(dtype="f16", b=2, h=4, length=512):
    g = Graph("hyena")
    u = g.input("u", (b, h, length), dtype)
    k = g.input("k", (h, length), "f32")
    x1 = g.input("x1", (b, h, length), dtype)
    x2 = g.input("x2", (b, h, length), dtype)
    d = g.input("d", (h,), "f32")
    g.output(g.conv(u, k, pregate=x1, postgate=x2, skip=d))
    return g


@pytest.mark.parametrize("decompose", [False, True])
def test_hyena_block_on_cpu(rng, decompose):
    g = hyena_graph()
    arrays = {name: ref.round_to(rng.standard_normal(shape), "f16") for name, shape in
              (("u", (2, 4, 512)), ("x1", (2, 4, 512)), ("x2", (2, 4, 512)))}
    arrays["k"] = ref.round_to(rng.standard_normal((4, 512)) / 16, "f32")
    arrays["d"] = ref.round_to(rng.standard_normal(4), "f32")
    (y,) = g.run_cpu(arrays, decompose=decompose)
    expected = ref.conv(arrays["u"], arrays["k"], "causal", arrays["x1"], arrays["x2"], arrays["d"])
    assert ref.relative_error(y, expected) <= 1e-3


def test_every_op(rng):
    g = Graph()
    k = g.input("k", (3, 64), "f32")
    c = g.input("c", (3, 64), "complex<f32>")
    kr = g.smooth(g.squash(k, 0.1), 3)
    spectrum = g.rfft(kr, 128)
    g.output(g.irfft(spectrum, 128), g.ifft(g.fft(c, 64), 32))
    arrays = {"k": rng.standard_normal((3, 64)).astype(np.float32),
              "c": (rng.standard_normal((3, 64)) + 1j * rng.standard_normal((3, 64))).astype(np.complex64)}
    back, crop = g.run_cpu(arrays, decompose=False)
    smoothed = ref.smooth(ref.squash(arrays["k"], np.float32(0.1)), 3)
    assert ref.relative_error(back, ref.irfft(ref.rfft(smoothed, 128), 128)) <= 1e-5
    assert ref.relative_error(crop, ref.ifft(ref.fft(arrays["c"], 64), 32)) <= 1e-5


@pytest.mark.parametrize("decompose", [False, True])
def test_frequency_sparse_form(rng, decompose):
    # irfft(channel_mul(rfft(u), rfft(k), band)) against float64 numpy: k's
    # spectrum is zero at bins >= band.
    n, band = 1024, 100
    g = Graph("band")
    u = g.input("u", (2, 3, n), "f32")
    k = g.input("k", (3, n), "f32")
    g.output(g.irfft(g.channel_mul(g.rfft(u, n), g.rfft(k, n), band=band), n))
    arrays = {"u": rng.standard_normal((2, 3, n)).astype(np.float32),
              "k": (rng.standard_normal((3, n)) / 32).astype(np.float32)}
    (y,) = g.run_cpu(arrays, decompose=decompose)
    kf = np.fft.rfft(arrays["k"].astype(np.float64), n)
    kf[..., band:] = 0
    expected = np.fft.irfft(np.fft.rfft(arrays["u"].astype(np.float64), n) * kf, n)
    assert ref.relative_error(y, expected) <= 1e-5
    with pytest.raises(ValueError, match="band must be at least 1"):
        g.channel_mul(g.rfft(u, n), g.rfft(k, n), band=0)


def test_channel_mul_conjugate(rng):
    # The correlation with k: channel_mul by conj(rfft(k)), band and all.
    n, band = 256, 40
    g = Graph("correlation")
    u = g.input("u", (2, 3, n), "f32")
    k = g.input("k", (3, n), "f32")
    g.output(g.irfft(g.channel_mul(g.rfft(u, n), g.rfft(k, n), band=band, conjugate=True), n))
    arrays = {"u": rng.standard_normal((2, 3, n)).astype(np.float32),
              "k": (rng.standard_normal((3, n)) / 16).astype(np.float32)}
    (y,) = g.run_cpu(arrays, decompose=False)
    kf = np.conj(np.fft.rfft(arrays["k"].astype(np.float64), n))
    kf[..., band:] = 0
    expected = np.fft.irfft(np.fft.rfft(arrays["u"].astype(np.float64), n) * kf, n)
    assert ref.relative_error(y, expected) <= 1e-5


def test_module_through_bindings():
    context = fftconv.Context()
    module = hyena_graph().module(context)
    fftconv.PassManager(context, "builtin.module(fftconv-to-butterfly)").run(module)
    assert 'butterfly.fused conv' in str(module)


@pytest.mark.parametrize(
    "build,message",
    [
        (lambda g: g.conv(g.input("u", (2, 4, 16), "f32"), g.input("k", (3, 16), "f32")),
         "one row per channel: input has H = 4 but kernel has 3"),
        (lambda g: g.conv(g.input("u", (2, 4, 16), "f32"), g.input("k", (4, 17), "f32")),
         "kernel length K = 17 to be at most the sequence length L = 16"),
        (lambda g: g.conv(g.input("u", (2, 4, 16), "f16"), g.input("k", (4, 16), "f16")),
         "operand #1 must be ranked tensor of 32-bit float"),
        (lambda g: g.conv(g.input("u", (4, 16), "f32"), g.input("k", (4, 16), "f32")), "expects input of rank 3"),
        (lambda g: g.smooth(g.input("k", (4, 16), "f32"), 4), "odd width"),
        (lambda g: g.squash(g.input("k", (4, 16), "f32"), -1), "finite threshold lambda >= 0"),
        (lambda g: g.squash(g.input("k", (4, 16), "f32"), float("nan")), "finite threshold lambda >= 0, got nan"),
        (lambda g: g.fft(g.input("k", (4, 16), "f32"), 16), "'fftconv.fft' op operand #0 must be"),
    ],
)
def test_bad_graphs_raise(build, message):
    # The verifier judges: the error names the node (v1, its printed SSA
    # name) and the line of this file that made it.
    g = Graph()
    g.output(build(g))
    with pytest.raises(fftconv.MLIRError, match=r'loc\("v1"\(".*test_graph.py":\d+:\d+\)\): error: .*' + message):
        g.module(fftconv.Context())


@pytest.mark.parametrize(
    "build,message",
    [
        (lambda g: g.input("u", (0, 4), "f32"), "dimensions must be positive"),
        (lambda g: g.input("u", (2, 4), "f64"), "element type must be one of"),
        (lambda g: g.input("1u", (2, 4), "f32"), "not an identifier"),
        (lambda g: g.input("u", (2, 2.5), "f32"), "dimensions must be integers"),
        (lambda g: g.input("u", (2, True), "f32"), "dimensions must be integers"),
        (lambda g: g.conv(Graph().input("u", (1, 1, 8), "f32"), g.input("k", (1, 8), "f32")), "not a value of this graph"),
    ],
)
def test_bad_inputs_raise(build, message):
    with pytest.raises(ValueError, match=message):
        build(Graph())


@pytest.mark.parametrize("lam", [1e-5, 1e20, 0.0, 3.0])
def test_squash_thresholds(rng, lam):
    # Any f32 threshold goes into the IR as an attribute (no decimal text on
    # the way), prints so that it parses again, and runs.
    g = Graph("squash")
    k = g.input("k", (3, 40), "f32")
    g.output(g.squash(k, lam))
    context = fftconv.Context()
    text = str(g.module(context))
    threshold = re.search(r"lambda = (\S+)", text).group(1)
    assert f"lambda = {threshold} :" in str(fftconv.Module.parse(context, text))
    arrays = {"k": (rng.standard_normal((3, 40)) * 2).astype(np.float32)}
    (y,) = g.run_cpu(arrays, decompose=False)
    expected = ref.squash(arrays["k"], np.float32(lam))
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=0)
    if lam >= 1e20:
        assert not y.any()


@pytest.mark.parametrize("lam", [float("inf"), float("-inf")])
def test_squash_infinite_threshold_is_invalid(lam):
    # An infinite threshold zeroes every kernel: the verifier rejects it
    # (squash's rule: a finite lambda >= 0), located at the node.
    g = Graph("squash")
    k = g.input("k", (3, 40), "f32")
    line = sys._getframe().f_lineno + 1
    g.output(g.squash(k, lam))
    with pytest.raises(fftconv.MLIRError,
                       match=rf'loc\("v1"\(".*test_graph.py":{line}:\d+\)\): error: .*finite threshold lambda >= 0, got -?INF'):
        g.module(fftconv.Context())


def test_printed_names_follow_the_graph():
    g = Graph("block")
    u = g.input("u", (1, 2, 16), "f32")
    k = g.input("k", (2, 16), "f32")
    g.output(g.conv(u, g.smooth(k, 3), causal=False))
    text = g.mlir(named=True)
    assert '%u: tensor<1x2x16xf32> {fftconv.name = "u"}' in text
    assert "%v1 = fftconv.smooth %k width = 3" in text
    assert "%v2 = fftconv.conv circular %u, %v1" in text


def test_constant_is_bit_exact(rng):
    # Graph.constant: raw bytes into a dense attribute, f16 and bf16 bits
    # included; the compiled code returns them unchanged.
    g = Graph("constants")
    values = {e: rng.standard_normal((2, 5)) for e in ("f32", "f16", "bf16")}
    c = (rng.standard_normal((2, 5)) + 1j * rng.standard_normal((2, 5))).astype(np.complex64)
    x = g.input("x", (2, 5), "f32")
    outs = [g.constant(values[e], e) for e in ("f32", "f16", "bf16")] + [g.constant(c, "complex<f32>")]
    g.output(g.squash(x, 0.0), *outs)
    y = g.run_cpu({"x": values["f32"]}, decompose=False)
    np.testing.assert_array_equal(y[1], values["f32"].astype(np.float32))
    np.testing.assert_array_equal(y[2], values["f16"].astype(np.float16).astype(np.float32))
    np.testing.assert_array_equal(y[3], ref.round_to(values["bf16"], "bf16").astype(np.float32))
    np.testing.assert_array_equal(y[4], c)


def test_signature_needs_no_mlir():
    # The kernel-cache key: equal graphs, equal signatures; any change shows.
    def build(lam):
        g = Graph("s")
        k = g.input("k", (2, 8), "f32")
        g.output(g.squash(k, lam))
        return g.signature()

    assert build(0.5) == build(0.5) and build(0.5) != build(0.25)


def test_wrong_array_shape(rng):
    g = hyena_graph()
    with pytest.raises(ValueError, match="has shape"):
        g.run_cpu({"u": np.zeros((1, 1, 1)), "k": 0, "x1": 0, "x2": 0, "d": 0})


def small_conv(element="f32"):
    g = Graph("small")
    u = g.input("u", (1, 2, 16), element)
    k = g.input("k", (2, 16), "f32")
    g.output(g.conv(u, k))
    return g


def test_integer_arrays_are_refused(rng):
    # An int array would be converted to float silently; the caller meant
    # something else.
    with pytest.raises(ValueError, match="has dtype int64, expected a float array for f32"):
        small_conv().run_cpu({"u": np.ones((1, 2, 16), dtype=np.int64), "k": rng.standard_normal((2, 16))})


def test_unknown_input_names_are_refused(rng):
    arrays = {"u": rng.standard_normal((1, 2, 16)), "k": rng.standard_normal((2, 16)), "gate": np.ones(3)}
    with pytest.raises(ValueError, match=r"\['gate'\] are not inputs of graph 'small'"):
        small_conv().run_cpu(arrays)


def test_bf16_takes_floats_or_bit_patterns(rng):
    # Float arrays are rounded to bf16; uint16 arrays are bf16 bit patterns;
    # either way the result is the convolution of the rounded values.
    from fftconv.native import CompiledFunction

    u = ref.round_to(rng.standard_normal((1, 2, 16)), "bf16")
    k = rng.standard_normal((2, 16)).astype(np.float32)
    function = CompiledFunction(small_conv("bf16"))
    from_floats = function(u.astype(np.float32), k)
    from_bits = function(ref.bf16_bits(u), k)
    assert from_floats.dtype == np.uint16 and np.array_equal(from_floats, from_bits)
    y = (from_floats.astype(np.uint32) << 16).view(np.float32)
    assert ref.relative_error(y, ref.conv(u, k, "causal")) < 8e-3
    with pytest.raises(ValueError, match="has dtype int32"):
        function(np.ones((1, 2, 16), dtype=np.int32), k)
