"""Training: the gradients of fftconv.conv derived by the compiler
(fftconv-derive-backward, fftconv-conv-grad-to-fft) and run on the CPU,
through fftconv.torch.FFTConv's autograd and through graphs, against
float64 PyTorch autograd on random inputs."""

import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

from fftconv.graph import Graph  # noqa: E402
from fftconv.native import CompiledBackward, CompiledFunction  # noqa: E402
from fftconv.torch import FFTConv  # noqa: E402

TOLERANCE = {torch.float32: 1e-5, torch.float16: 1e-3, torch.bfloat16: 8e-3}
ELEMENT = {torch.float32: "f32", torch.float16: "f16", torch.bfloat16: "bf16"}


def conv_reference(u, k, causal, pregate=None, postgate=None, skip=None):
    """fftconv.conv in float64 PyTorch ops (autograd differentiates it)."""
    length = u.shape[-1]
    n = 2 * length if causal else length
    v = u * pregate if pregate is not None else u
    z = torch.fft.irfft(torch.fft.rfft(v, n=n) * torch.fft.rfft(k, n=n), n=n)[..., :length]
    if skip is not None:
        z = z + skip[:, None] * v
    return z * postgate if postgate is not None else z


def relative_error(got, expected):
    got, expected = got.double(), expected.double()
    return (torch.linalg.norm((got - expected).flatten()) / torch.linalg.norm(expected.flatten())).item()


def reference_gradients(tensors, dy, **conv):
    """d(sum(y * dy))/d(each tensor), in float64."""
    leaves = {name: t.detach().double().requires_grad_() for name, t in tensors.items() if t is not None}
    y = conv_reference(leaves["u"], leaves["k"], pregate=leaves.get("pregate"),
                       postgate=leaves.get("postgate"), skip=leaves.get("skip"), **conv)
    y.backward(dy.double())
    return {name: t.grad for name, t in leaves.items()}


# Every precision gated (the gates' gradients and the ungated paths' own
# code), ungated in f32; each case compiles a forward and a backward.
MODULE_CASES = [(dtype, causal, True) for dtype in TOLERANCE for causal in (True, False)]
MODULE_CASES += [(torch.float32, True, False), (torch.float32, False, False)]


@pytest.mark.parametrize("dtype,causal,gated", MODULE_CASES,
                         ids=lambda c: {torch.float32: "f32", torch.float16: "f16", torch.bfloat16: "bf16"}.get(c, str(c)))
def test_module_gradients(dtype, causal, gated):
    """FFTConv's backward on the CPU: every gradient within the tolerance of
    its precision; odd batch, partial kernel (K < L) when causal."""
    torch.manual_seed(1)
    b, h, length = 3, 4, 64
    taps = 40 if causal else length
    seqlen = 2 * length if causal else length
    u = torch.randn(b, h, length).to(dtype).requires_grad_()
    k = (torch.randn(h, taps) / 8).requires_grad_()
    pre = torch.randn(b, h, length).to(dtype).requires_grad_() if gated else None
    post = torch.randn(b, h, length).to(dtype).requires_grad_() if gated else None
    y = FFTConv(seqlen, dtype)(u, k, pre, post)
    assert y.grad_fn is not None
    dy = torch.randn(b, h, length).to(dtype)
    y.backward(dy)
    expected = reference_gradients({"u": u, "k": k, "pregate": pre, "postgate": post}, dy, causal=causal)
    got = {"u": u.grad, "k": k.grad, "pregate": pre.grad if gated else None,
           "postgate": post.grad if gated else None}
    assert u.grad.dtype == dtype and k.grad.dtype == torch.float32
    for name, grad in expected.items():
        err = relative_error(got[name], grad)
        assert err <= TOLERANCE[dtype], f"d{name}: relative error {err:.3e}"


def _graph_with_skip(causal, length, taps, element="f32", batch=3, channels=2):
    g = Graph("gated")
    u = g.input("u", (batch, channels, length), element)
    k = g.input("k", (channels, taps), "f32")
    pre = g.input("pregate", (batch, channels, length), element)
    post = g.input("postgate", (batch, channels, length), element)
    d = g.input("skip", (channels,), "f32")
    g.output(g.conv(u, k, causal=causal, pregate=pre, postgate=post, skip=d))
    return g


@pytest.mark.parametrize("causal,length", [(True, 48), (False, 64), (False, 48)])
def test_derived_backward_with_skip(causal, length):
    """The derived backward of a gated convolution with skip term: all five
    gradients, f32; circular at L = 48 takes the periodic-extension form."""
    rng = np.random.default_rng(2)
    taps = 20
    g = _graph_with_skip(causal, length, taps)
    arrays = {
        "u": rng.standard_normal((3, 2, length)), "k": rng.standard_normal((2, taps)) / 4,
        "pregate": rng.standard_normal((3, 2, length)), "postgate": rng.standard_normal((3, 2, length)),
        "skip": rng.standard_normal(2),
    }
    arrays = {name: a.astype(np.float32) for name, a in arrays.items()}
    dy = rng.standard_normal((3, 2, length)).astype(np.float32)
    grads = CompiledBackward(g)(*arrays.values(), dy)
    tensors = {name: torch.from_numpy(a) for name, a in arrays.items()}
    if causal:
        expected = reference_gradients(tensors, torch.from_numpy(dy), causal=True)
    else:  # circular with K < L: the kernel zero-padded to L
        expected = reference_gradients(tensors, torch.from_numpy(dy), causal=False)
    for (name, ref), got in zip(expected.items(), grads):
        err = relative_error(torch.from_numpy(got), ref)
        assert err <= 1e-5, f"d{name}: relative error {err:.3e}"


def test_conv_grad_op_through_graph():
    """Graph.conv_grad builds fftconv.conv_grad directly: only the gradients
    asked for, in the op's order."""
    rng = np.random.default_rng(3)
    g = Graph("grads")
    u = g.input("u", (1, 2, 32), "f32")
    k = g.input("k", (2, 32), "f32")
    dy = g.input("dy", (1, 2, 32), "f32")
    dk, = g.conv_grad(u, k, dy, causal=True, wrt=("kernel",))
    g.output(dk)
    assert "fftconv.conv_grad causal" in g.mlir() and 'wrt [kernel]' in g.mlir()
    arrays = {name: rng.standard_normal(shape).astype(np.float32)
              for name, shape in (("u", (1, 2, 32)), ("k", (2, 32)), ("dy", (1, 2, 32)))}
    (got,) = g.run_cpu(arrays)
    tensors = {n: torch.from_numpy(arrays[n]) for n in ("u", "k")}
    expected = reference_gradients(tensors, torch.from_numpy(arrays["dy"]), causal=True)["k"]
    assert relative_error(torch.from_numpy(got), expected) <= 1e-5
    with pytest.raises(ValueError, match="does not have"):
        g.conv_grad(u, k, dy, wrt=("pregate",))


def test_regularized_kernel_gradients():
    """Squash's subgradient and Smooth's transpose in the derived backward:
    y = conv(u, smooth(squash(k))) against PyTorch's autograd of the same."""
    rng = np.random.default_rng(4)
    b, h, length, lam, width = 2, 3, 32, 0.05, 5
    g = Graph("regularized")
    u = g.input("u", (b, h, length), "f32")
    k = g.input("k", (h, length), "f32")
    g.output(g.conv(u, g.smooth(g.squash(k, lam), width), causal=True))
    un = rng.standard_normal((b, h, length)).astype(np.float32)
    kn = (rng.standard_normal((h, length)) / 8).astype(np.float32)
    dy = rng.standard_normal((b, h, length)).astype(np.float32)
    du, dk = CompiledBackward(g)(un, kn, dy)

    ut = torch.from_numpy(un).double().requires_grad_()
    kt = torch.from_numpy(kn).double().requires_grad_()
    squashed = torch.sign(kt) * torch.relu(kt.abs() - lam)
    smoothed = torch.nn.functional.avg_pool1d(squashed[None], width, 1, width // 2)[0]
    conv_reference(ut, smoothed, causal=True).backward(torch.from_numpy(dy).double())
    assert relative_error(torch.from_numpy(du), ut.grad) <= 1e-5
    assert relative_error(torch.from_numpy(dk), kt.grad) <= 1e-5


@pytest.mark.parametrize("causal", [True, False])
def test_finite_differences(causal):
    """The CPU gradients against central differences of the compiled forward
    (f32): y is linear in each of u, k and the gates, so the central
    difference is exact up to rounding at any step."""
    rng = np.random.default_rng(5)
    b, h, length, taps = 1, 2, 16, 16
    g = Graph("tiny")
    u = g.input("u", (b, h, length), "f32")
    k = g.input("k", (h, taps), "f32")
    pre = g.input("pregate", (b, h, length), "f32")
    g.output(g.conv(u, k, causal=causal, pregate=pre))
    values = [rng.standard_normal((b, h, length)), rng.standard_normal((h, taps)),
              rng.standard_normal((b, h, length))]
    values = [v.astype(np.float32) for v in values]
    weights = rng.standard_normal((b, h, length))
    forward = CompiledFunction(g)
    grads = CompiledBackward(g)(*values, weights.astype(np.float32))

    def loss(arrays):
        return float(np.sum(forward(*arrays).astype(np.float64) * weights))

    step = 0.5
    for which, grad in enumerate(grads):
        for index in [tuple(rng.integers(0, s) for s in values[which].shape) for _ in range(4)]:
            plus = [v.copy() for v in values]
            minus = [v.copy() for v in values]
            plus[which][index] += step
            minus[which][index] -= step
            numeric = (loss(plus) - loss(minus)) / (2 * step)
            assert abs(numeric - grad[index]) <= 1e-4 * (1 + abs(numeric)), (which, index, numeric, grad[index])


class _Block(torch.nn.Module):
    """A residual block: x + proj_out(postgate * conv(proj_in(x), k))."""

    def __init__(self, channels, length, conv):
        super().__init__()
        self.proj_in = torch.nn.Linear(channels, 2 * channels)
        self.proj_out = torch.nn.Linear(channels, channels)
        self.k = torch.nn.Parameter(torch.randn(channels, length) / length ** 0.5)
        self.conv = conv

    def forward(self, x):  # x: B x L x H
        v, gate = self.proj_in(x).transpose(1, 2).chunk(2, dim=1)
        y = self.conv(v.contiguous(), self.k, None, gate.contiguous())
        return x + self.proj_out(y.transpose(1, 2))


def test_backward_through_residual_block():
    """loss.backward() through FFTConv inside a residual block gives the
    parameters and the input the gradients of PyTorch's FFT convolution."""
    torch.manual_seed(6)
    b, h, length = 3, 4, 32
    ours = _Block(h, length, FFTConv(2 * length, torch.float32))
    theirs = _Block(h, length, lambda u, k, pre, post: conv_reference(u, k, True, pre, post))
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(b, length, h)
    grads = []
    for block in (ours, theirs):
        xi = x.clone().requires_grad_()
        block(xi).square().mean().backward()
        grads.append([xi.grad] + [p.grad for p in block.parameters()])
    assert ours.k.grad is not None
    for got, expected in zip(*grads):
        assert relative_error(got, expected) <= 1e-5


def test_no_gradient_is_lost():
    """With inputs that require grad, the output always has a grad_fn."""
    u = torch.randn(1, 2, 16, requires_grad=True)
    k = torch.randn(2, 16)
    y = FFTConv(32, torch.float32)(u, k)
    assert y.requires_grad and y.grad_fn is not None
    y.sum().backward()
    assert u.grad is not None and torch.isfinite(u.grad).all()


def _gated_graph(length, seqlen_causal=True, skip=True):
    g = Graph("f")
    u = g.input("u", (3, 2, length), "f16")
    k = g.input("k", (2, length), "f32")
    pre = g.input("pregate", (3, 2, length), "f16")
    post = g.input("postgate", (3, 2, length), "f16")
    extra = {"skip": g.input("skip", (2,), "f32")} if skip else {}
    g.output(g.conv(u, k, causal=seqlen_causal, pregate=pre, postgate=post, **extra))
    return g


def test_compile_for_training():
    """compile(training=True): the forward and the derived backward in one
    manifest; the backward takes the inputs and dy and returns one gradient
    per input, computed by the correlation (du, dpre), the postgate's
    convolution and the kernel gradient's two kernels."""
    import fftconv
    from fftconv.gpu import TrainingProgram

    program = fftconv.compile(_gated_graph(512), training=True)
    assert isinstance(program, TrainingProgram)
    forward, backward = program.manifest, program.manifest["backward"]
    assert [a["role"] for a in forward["arguments"]].count("output") == 1
    inputs = [a for a in backward["arguments"] if a["role"] == "input"]
    outputs = [a for a in backward["arguments"] if a["role"] == "output"]
    assert [a["shape"] for a in inputs] == [[3, 2, 512], [2, 512], [3, 2, 512], [3, 2, 512], [2], [3, 2, 512]]
    assert [a["shape"] for a in outputs] == [[3, 2, 512], [2, 512], [3, 2, 512], [3, 2, 512], [2]]
    names = [kernel["name"] for kernel in backward["kernels"]]
    assert any(name.endswith("_cross_spectrum") for name in names), names
    assert any(name.endswith("_kernel_gradient0_inverse") for name in names), names
    # No reduction kernel of its own for dD: it is the correlation's lag 0.
    assert len(names) == 6, names


def test_compile_for_training_saves_one_manifest(tmp_path):
    import json

    import fftconv

    stem = str(tmp_path / "conv")
    fftconv.compile(_gated_graph(256, skip=False), training=True).save(stem)
    with open(stem + ".json") as f:
        manifest = json.load(f)
    assert manifest["ptx"] == "conv.ptx" and manifest["backward"]["ptx"] == "conv.backward.ptx"
    with open(stem + ".backward.ptx") as f:
        assert "_cross_spectrum" in f.read()


def test_compile_for_training_past_the_single_kernel_form(tmp_path):
    import fftconv

    # N = 64K: the backward's convolutions and its kernel gradient in the
    # three-pass form.
    stem = str(tmp_path / "conv")
    fftconv.compile(_gated_graph(1 << 15, skip=False), training=True).save(stem)
    with open(stem + ".backward.ptx") as f:
        ptx = f.read()
    for kernel in ("_outer_forward_v", "_outer_forward_g", "_cross_spectrum", "_inner_inverse", "_lags"):
        assert kernel in ptx


def test_compile_for_training_refuses_what_it_cannot_run():
    import fftconv
    from fftconv import MLIRError

    # A constant kernel: the GPU's spectrum kernels read k from an argument.
    g = Graph("constant_kernel")
    u = g.input("u", (1, 2, 1024), "f16")
    g.output(g.conv(u, g.constant(np.full((2, 1024), 0.5), "f32")))
    with pytest.raises(MLIRError, match="kernel given as a function argument"):
        fftconv.compile(g, training=True)
    with pytest.raises(TypeError, match="needs a fftconv.Graph"):
        fftconv.compile("func.func @f() { return }", training=True)


def test_circular_of_any_length_compiles_for_training():
    # L = 1000 (not a power of two): the circulated taps forward and back
    # (their GPU numerics: test/GPU/test_graph_forms_gpu.py).
    import fftconv

    program = fftconv.compile(_gated_graph(1000, seqlen_causal=False, skip=False), training=True)
    names = [k["name"] for k in program.manifest["backward"]["kernels"]]
    assert any("cross_spectrum" in name for name in names), names


@pytest.mark.parametrize("mode", ["causal", "circular"])
def test_direct_lowering_against_numpy_oracle(mode):
    """Without the decomposition (conv-grad-to-fft, then the direct DFTs of
    fftconv-to-linalg): every gradient against reference.conv_grad, the
    direct sums of design.md, in float64."""
    from fftconv import reference

    rng = np.random.default_rng(7)
    length, taps = 24, 9
    g = _graph_with_skip(mode == "causal", length, taps, batch=3, channels=2)
    names = ("u", "k", "pregate", "postgate", "skip")
    shapes = ((3, 2, length), (2, taps), (3, 2, length), (3, 2, length), (2,))
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    dy = rng.standard_normal((3, 2, length)).astype(np.float32)
    got = CompiledBackward(g, decompose=False)(*arrays, dy)
    expected = reference.conv_grad(arrays[0], arrays[1], dy, mode, *arrays[2:])
    for name, key, grad in zip(names, ("input", "kernel", "pregate", "postgate", "skip"), got):
        err = reference.relative_error(grad, expected[key])
        assert err <= 1e-5, f"d{name}: relative error {err:.3e}"


def test_only_requested_gradients():
    """A frozen kernel (or input) gets no gradient and the backward program
    is derived for the others alone (fftconv-derive-backward{arguments})."""
    torch.manual_seed(8)
    conv = FFTConv(64, torch.float32)
    u = torch.randn(1, 2, 32, requires_grad=True)
    k = torch.randn(2, 32)
    conv(u, k).backward(torch.ones(1, 2, 32))
    expected = reference_gradients({"u": u, "k": k}, torch.ones(1, 2, 32), causal=True)["u"]
    assert k.grad is None and relative_error(u.grad, expected) <= 1e-5
    assert any(key[:2] == ("backward", ("u",)) for key in conv._compiled)


def test_chained_convolutions():
    """Two convolutions in a row, sharing one kernel: the derivation replays
    the first (its output is the second's input) and sums the kernel's two
    gradients."""
    rng = np.random.default_rng(9)
    g = Graph("chain")
    u = g.input("u", (2, 2, 32), "f32")
    k = g.input("k", (2, 16), "f32")
    g.output(g.conv(g.conv(u, k, causal=True), k, causal=False))
    un = rng.standard_normal((2, 2, 32)).astype(np.float32)
    kn = (rng.standard_normal((2, 16)) / 4).astype(np.float32)
    dy = rng.standard_normal((2, 2, 32)).astype(np.float32)
    du, dk = CompiledBackward(g)(un, kn, dy)
    ut = torch.from_numpy(un).double().requires_grad_()
    kt = torch.from_numpy(kn).double().requires_grad_()
    conv_reference(conv_reference(ut, kt, True), kt, False).backward(torch.from_numpy(dy).double())
    assert relative_error(torch.from_numpy(du), ut.grad) <= 1e-5
    assert relative_error(torch.from_numpy(dk), kt.grad) <= 1e-5


@pytest.mark.parametrize("decompose", [False, True], ids=["direct", "decomposed"])
def test_min_fft_size_padding_against_numpy_oracle(decompose):
    """fftconv-to-ptx pads short causal convolutions to the GPU's smallest
    transform (min-size = 256); on the CPU the padded expansion (and its
    decomposition) gives the same forward and gradients as the direct sums,
    in float64."""
    from fftconv import cpu, reference

    rng = np.random.default_rng(11)
    length = 24
    g = Graph("short")
    u = g.input("u", (3, 2, length), "f32")
    k = g.input("k", (2, length), "f32")
    pre = g.input("pregate", (3, 2, length), "f32")
    post = g.input("postgate", (3, 2, length), "f32")
    d = g.input("skip", (2,), "f32")
    dy = g.input("dy", (3, 2, length), "f32")
    y = g.conv(u, k, causal=True, pregate=pre, postgate=post, skip=d)
    grads = g.conv_grad(u, k, dy, causal=True, pregate=pre, postgate=post, skip=d,
                        wrt=("input", "kernel", "pregate", "postgate", "skip"))
    g.output(y, *grads)
    arrays = {"u": rng.standard_normal((3, 2, length)), "k": rng.standard_normal((2, length)) / 5,
              "pregate": rng.standard_normal((3, 2, length)), "postgate": rng.standard_normal((3, 2, length)),
              "skip": rng.standard_normal(2), "dy": rng.standard_normal((3, 2, length))}
    arrays = {name: a.astype(np.float32) for name, a in arrays.items()}
    passes = ["fftconv-conv-grad-to-fft{min-size=256}", "fftconv-conv-to-fft{min-size=256}"]
    if decompose:
        passes.append(cpu.butterfly_pipeline())
    module = g.module(cpu.default_context())
    assert "n = 256" in cpu.compile_text(str(module), passes[:2])
    outputs = cpu.run(g.module(cpu.default_context()), [arrays[v.name] for v in g.inputs], passes=passes, function="short")
    a64 = {name: a.astype(np.float64) for name, a in arrays.items()}
    expected_y = reference.conv(a64["u"], a64["k"], mode="causal", pregate=a64["pregate"],
                                postgate=a64["postgate"], skip=a64["skip"])
    expected = reference.conv_grad(a64["u"], a64["k"], a64["dy"], mode="causal", pregate=a64["pregate"],
                                   postgate=a64["postgate"], skip=a64["skip"])
    assert reference.relative_error(outputs[0], expected_y) <= 1e-5
    for got, name in zip(outputs[1:], ("input", "kernel", "pregate", "postgate", "skip")):
        assert reference.relative_error(got, expected[name]) <= 1e-5, name
