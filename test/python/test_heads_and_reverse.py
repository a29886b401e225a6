"""The multi-head (B x G x H x Z x L) and bidirectional (reverse kernel)
forms of fftconv.conv and conv_grad, run on the CPU through both lowerings
(direct and Monarch) on random inputs, against the float64 numpy oracle
(fftconv.reference, by direct sums)."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

from fftconv import reference as ref  # noqa: E402
from fftconv.graph import Graph  # noqa: E402
from fftconv.native import CompiledBackward  # noqa: E402


def relative_error(x, y):
    return float(np.linalg.norm(np.asarray(x, np.float64) - y) / np.linalg.norm(y))


# (shape of u, kernel taps K, reverse taps K' or None, gates and skip)
CASES = [
    pytest.param((2, 3, 4, 1, 96), 96, None, True, id="heads-one-block"),
    pytest.param((2, 2, 4, 3, 40), 40, None, False, id="heads-three-blocks"),
    pytest.param((2, 4, 100), 100, 100, True, id="bidirectional"),
    pytest.param((3, 4, 100), 7, 33, False, id="bidirectional-partial"),
    pytest.param((1, 2, 4, 2, 64), 64, 64, True, id="heads-bidirectional"),
]


def build(shape, taps, reverse_taps, gated, element="f32"):
    channels = shape[1] if len(shape) == 3 else shape[2]
    g = Graph("heads")
    u = g.input("u", shape, element)
    k = g.input("k", (channels, taps), "f32")
    kr = g.input("kr", (channels, reverse_taps), "f32") if reverse_taps else None
    pre = g.input("pre", shape, element) if gated else None
    post = g.input("post", shape, element) if gated else None
    d = g.input("d", (channels,), "f32") if gated else None
    g.output(g.conv(u, k, pregate=pre, postgate=post, skip=d, reverse=kr))
    return g


def arrays_for(g, rng):
    return {v.name: (rng.standard_normal(v.shape) / (8 if v.name in ("k", "kr") else 1)).astype(np.float32)
            for v in g.inputs}


def oracle(arrays):
    return ref.conv(arrays["u"], arrays["k"], "causal", pregate=arrays.get("pre"),
                    postgate=arrays.get("post"), skip=arrays.get("d"), reverse=arrays.get("kr"))


@pytest.mark.parametrize("decompose", [False, True])
@pytest.mark.parametrize("shape,taps,reverse_taps,gated", CASES)
def test_forward(shape, taps, reverse_taps, gated, decompose):
    rng = np.random.default_rng(5)
    g = build(shape, taps, reverse_taps, gated)
    arrays = arrays_for(g, rng)
    (y,) = g.run_cpu(arrays, decompose=decompose)
    assert y.shape == shape
    assert relative_error(y, oracle(arrays)) < 1e-5


def test_reverse_kernel_changes_the_result():
    # The anticausal half is not dropped: without it the error is O(1).
    rng = np.random.default_rng(6)
    g = build((2, 4, 100), 100, 100, False)
    arrays = arrays_for(g, rng)
    (y,) = g.run_cpu(arrays)
    causal_only = ref.conv(arrays["u"], arrays["k"], "causal")
    assert relative_error(y, causal_only) > 0.3


@pytest.mark.parametrize("shape,taps,reverse_taps,gated", CASES)
def test_gradients(shape, taps, reverse_taps, gated):
    rng = np.random.default_rng(7)
    g = build(shape, taps, reverse_taps, gated)
    arrays = arrays_for(g, rng)
    dy = rng.standard_normal(shape).astype(np.float32)
    backward = CompiledBackward(g)
    names = [v.name for v in g.inputs]
    results = dict(zip(names, backward(*[arrays[n] for n in names], dy)))
    expected = ref.conv_grad(arrays["u"], arrays["k"], dy, "causal", pregate=arrays.get("pre"),
                             postgate=arrays.get("post"), skip=arrays.get("d"), reverse=arrays.get("kr"))
    for name, key in (("u", "input"), ("k", "kernel"), ("kr", "reverse"), ("pre", "pregate"),
                      ("post", "postgate"), ("d", "skip")):
        if name in results:
            assert relative_error(results[name], expected[key]) < 1e-5, name


def test_oracle_matches_finite_differences():
    # The oracle's reverse-kernel gradient is itself checked against a
    # central difference of its forward (it is what the compiled gradients
    # are held to).
    rng = np.random.default_rng(8)
    u = rng.standard_normal((2, 3, 20))
    k = rng.standard_normal((3, 5))
    kr = rng.standard_normal((3, 6))
    dy = rng.standard_normal((2, 3, 20))
    grads = ref.conv_grad(u, k, dy, "causal", reverse=kr)
    step = 1e-6
    for h, s in ((0, 0), (1, 3), (2, 5)):
        plus, minus = kr.copy(), kr.copy()
        plus[h, s] += step
        minus[h, s] -= step
        numeric = np.sum(dy * (ref.conv(u, k, "causal", reverse=plus) - ref.conv(u, k, "causal", reverse=minus)))
        assert abs(numeric / (2 * step) - grads["reverse"][h, s]) < 1e-6
    du_numeric = np.zeros_like(u)
    for index in [(0, 0, 0), (1, 2, 19), (0, 1, 10)]:
        plus, minus = u.copy(), u.copy()
        plus[index] += step
        minus[index] -= step
        numeric = np.sum(dy * (ref.conv(plus, k, "causal", reverse=kr) - ref.conv(minus, k, "causal", reverse=kr)))
        assert abs(numeric / (2 * step) - grads["input"][index]) < 1e-6


def test_chained_gated_convolutions_backward():
    # Hyena of order 3: conv(conv(u, k0) gated, k1) gated, both with skips.
    # Its backward's regions are outlined out of def-before-use order
    # unless butterfly-fuse-conv restores it (the compile failed before).
    rng = np.random.default_rng(9)
    shape, channels = (2, 4, 64), 4
    g = Graph("chain")
    names = ("u", "x0", "x1", "x2")
    u, x0, x1, x2 = (g.input(n, shape, "f32") for n in names)
    k0, k1 = g.input("k0", (channels, 64), "f32"), g.input("k1", (channels, 64), "f32")
    d0, d1 = g.input("d0", (channels,), "f32"), g.input("d1", (channels,), "f32")
    y0 = g.conv(u, k0, pregate=x2, skip=d0)
    g.output(g.conv(y0, k1, pregate=x1, postgate=x0, skip=d1))
    arrays = arrays_for(g, rng)
    dy = rng.standard_normal(shape).astype(np.float32)
    inputs = [v.name for v in g.inputs]
    results = dict(zip(inputs, CompiledBackward(g)(*[arrays[n] for n in inputs], dy)))
    a = arrays
    first = ref.conv(a["u"], a["k0"], "causal", pregate=a["x2"], skip=a["d0"])
    second = ref.conv_grad(first, a["k1"], dy, "causal", pregate=a["x1"], postgate=a["x0"], skip=a["d1"])
    inner = ref.conv_grad(a["u"], a["k0"], second["input"], "causal", pregate=a["x2"], skip=a["d0"])
    expected = {"u": inner["input"], "x2": inner["pregate"], "k0": inner["kernel"], "d0": inner["skip"],
                "k1": second["kernel"], "x1": second["pregate"], "x0": second["postgate"], "d1": second["skip"]}
    for name, value in expected.items():
        assert relative_error(results[name], value) < 1e-5, name
