"""The graph builder: every fftconv op, checked shapes, the printed program
through the bindings' verifier, and CPU execution against the oracle."""

import os
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


def test_module_through_bindings():
    context = fftconv.Context()
    module = hyena_graph().module(context)
    fftconv.PassManager(context, "builtin.module(fftconv-to-butterfly)").run(module)
    assert 'butterfly.fused conv' in str(module)


@pytest.mark.parametrize(
    "build,message",
    [
        (lambda g: g.conv(g.input("u", (2, 4, 16), "f32"), g.input("k", (3, 16), "f32")), "k has 3 channels, u has H = 4"),
        (lambda g: g.conv(g.input("u", (2, 4, 16), "f32"), g.input("k", (4, 17), "f32")), "exceeds the sequence length"),
        (lambda g: g.conv(g.input("u", (2, 4, 16), "f16"), g.input("k", (4, 16), "f16")), "k must be H x K of f32"),
        (lambda g: g.conv(g.input("u", (4, 16), "f32"), g.input("k", (4, 16), "f32")), "u must be B x H x L"),
        (lambda g: g.smooth(g.input("k", (4, 16), "f32"), 4), "odd width"),
        (lambda g: g.input("u", (0, 4), "f32"), "dimensions must be positive"),
        (lambda g: g.input("u", (2, 4), "f64"), "element type must be one of"),
    ],
)
def test_bad_graphs_raise(build, message):
    with pytest.raises(ValueError, match=message):
        build(Graph())


def test_wrong_array_shape(rng):
    g = hyena_graph()
    with pytest.raises(ValueError, match="has shape"):
        g.run_cpu({"u": np.zeros((1, 1, 1)), "k": 0, "x1": 0, "x2": 0, "d": 0})
