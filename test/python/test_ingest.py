"""fftconv.ingest: FFT convolutions written in PyTorch, traced with torch.fx,
become fftconv.conv ops; each ingested graph runs on the CPU through the
compiler and is compared with the module's own output."""

import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

import torch.nn.functional as F  # noqa: E402

import fftconv  # noqa: E402
from fftconv.ingest import UnsupportedPattern, ingest  # noqa: E402

B, H, L = 2, 4, 64
TOLERANCE = {torch.float32: 1e-5, torch.float16: 1e-3, torch.bfloat16: 8e-3}


def relative_error(y, expected):
    y = np.asarray(y, np.float64)
    expected = expected.detach().to(torch.float64).numpy()
    return float(np.linalg.norm((y - expected).ravel()) / np.linalg.norm(expected.ravel()))


def check(module, inputs, tracer="auto", dtype=torch.float32, decompose=True):
    """Ingests `module`, runs the graph on the CPU and compares every output
    with PyTorch's; returns the IngestResult."""
    result = ingest(module, inputs, tracer=tracer)
    outputs = result.graph.run_cpu(result.arrays(*inputs), decompose=decompose)
    with torch.no_grad():
        expected = module(*inputs)
    expected = list(expected) if isinstance(expected, (tuple, list)) else [expected]
    assert len(outputs) == len(expected)
    for y, ref in zip(outputs, expected):
        assert y.shape == tuple(ref.shape)
        err = relative_error(y, ref)
        assert err <= TOLERANCE[dtype], f"relative error {err:.3e}"
    return result


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)


def signal(*shape, dtype=torch.float32):
    return torch.randn(*shape).to(dtype)


# ---------------------------------------------------------------------------
# a. rfft -> product -> irfft -> crop
# ---------------------------------------------------------------------------


class CausalConv(torch.nn.Module):
    """torch.fft.irfft(rfft(u, n=2L) * rfft(k, n=2L), n=2L)[..., :L], k a parameter."""

    def __init__(self, taps=L):
        super().__init__()
        self.k = torch.nn.Parameter(torch.randn(H, taps) / 8)

    def forward(self, u):
        n = 2 * L
        return torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(self.k, n=n), n=n)[..., :L]


@pytest.mark.parametrize("tracer", ["symbolic_trace", "make_fx"])
@pytest.mark.parametrize("taps", [L, 16])
def test_causal_rfft_parameter_kernel(tracer, taps):
    result = check(CausalConv(taps), (signal(B, H, L),), tracer)
    assert result.tracer == tracer
    (conv,) = result.convolutions
    assert (conv.mode, conv.n, conv.shape, conv.taps) == ("causal", 2 * L, (B, H, L), taps)
    assert list(result.sources) == ["u", "k"]
    assert result.sources["u"].kind == "input" and result.sources["u"].index == 0
    assert result.sources["k"].kind == "parameter" and result.sources["k"].name == "k"
    assert "fftconv.conv causal %u, %k :" in result.graph.mlir()


class KernelInput(torch.nn.Module):
    """The same with k an input, zero padding by F.pad, and u * k in the other order."""

    def forward(self, u, k):
        kf = torch.fft.rfft(F.pad(k, (0, L)))
        uf = torch.fft.rfft(F.pad(u, (0, L)))
        return torch.fft.irfft(kf * uf)[:, :, :L]


def test_causal_kernel_input_with_padding():
    result = check(KernelInput(), (signal(B, H, L), signal(H, L) / 8))
    assert result.sources["k"].kind == "input" and result.sources["k"].index == 1
    assert result.convolutions[0].mode == "causal"


class HyenaNormalized(torch.nn.Module):
    """Hyena's normalization: k_f / fft_size with irfft(norm="forward")."""

    def forward(self, u, k):
        fft_size = 2 * L
        k_f = torch.fft.rfft(k, n=fft_size) / fft_size
        u_f = torch.fft.rfft(u.to(dtype=k.dtype), n=fft_size)
        return torch.fft.irfft(u_f * k_f, n=fft_size, norm="forward")[..., :L]


class OrthoNormalized(torch.nn.Module):
    def forward(self, u, k):
        n = 2 * L
        uf = torch.fft.rfft(u, n=n, norm="ortho")
        kf = torch.fft.rfft(k, n=n, norm="ortho")
        return torch.fft.irfft(uf * kf * n ** 0.5, n=n, norm="ortho")[..., :L]


@pytest.mark.parametrize("module", [HyenaNormalized, OrthoNormalized])
@pytest.mark.parametrize("tracer", ["symbolic_trace", "make_fx"])
def test_normalizations_that_cancel(module, tracer):
    check(module(), (signal(B, H, L), signal(H, L) / 8), tracer)


class Circular(torch.nn.Module):
    """n = L: the circular convolution, no crop."""

    def __init__(self, taps):
        super().__init__()
        self.k = torch.nn.Parameter(torch.randn(H, taps) / 8)

    def forward(self, u):
        return torch.fft.irfft(torch.fft.rfft(u, n=L) * torch.fft.rfft(self.k, n=L), n=L)


@pytest.mark.parametrize("tracer", ["symbolic_trace", "make_fx"])
@pytest.mark.parametrize("taps", [L, 24])
def test_circular(tracer, taps):
    result = check(Circular(taps), (signal(B, H, L),), tracer)
    assert result.convolutions[0].mode == "circular"
    assert "fftconv.conv circular" in result.graph.mlir()


class OddSize(torch.nn.Module):
    """n = 3L = 192 is not a power of two; it is still the causal convolution
    (n >= L + K - 1), which the compiler computes at its own FFT size."""

    def forward(self, u, k):
        n = 3 * L
        return torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(k, n=n), n=n)[..., :L]


def test_any_fft_size_that_gives_the_causal_convolution():
    result = check(OddSize(), (signal(B, H, L), signal(H, L) / 8))
    assert (result.convolutions[0].mode, result.convolutions[0].n) == ("causal", 3 * L)


# ---------------------------------------------------------------------------
# b. fft / ifft, real part
# ---------------------------------------------------------------------------


class ComplexFFT(torch.nn.Module):
    def __init__(self, variant):
        super().__init__()
        self.variant = variant
        self.k = torch.nn.Parameter(torch.randn(H, L) / 8)

    def forward(self, u):
        n = 2 * L
        y = torch.fft.ifft(torch.fft.fft(u, n=n) * torch.fft.fft(self.k, n=n), n=n)
        if self.variant == "real_then_crop":
            return y.real[..., :L]
        if self.variant == "crop_then_real":
            return y[..., :L].real
        if self.variant == "view_as_real":
            return torch.view_as_real(y)[..., :L, 0]
        return torch.real(y)[:, :, :L]


@pytest.mark.parametrize("tracer", ["symbolic_trace", "make_fx"])
@pytest.mark.parametrize("variant", ["real_then_crop", "crop_then_real", "torch_real", "view_as_real"])
def test_fft_ifft_real_part(tracer, variant):
    result = check(ComplexFFT(variant), (signal(B, H, L),), tracer)
    assert result.convolutions[0].mode == "causal"


class IrfftOfFullSpectrum(torch.nn.Module):
    def forward(self, u, k):
        n = 2 * L
        return torch.fft.irfft(torch.fft.fft(u, n=n) * torch.fft.fft(k, n=n), n=n)[..., :L]


@pytest.mark.parametrize("tracer", ["symbolic_trace", "make_fx"])
def test_irfft_of_a_full_spectrum(tracer):
    check(IrfftOfFullSpectrum(), (signal(B, H, L), signal(H, L) / 8), tracer)


# ---------------------------------------------------------------------------
# c. Hyena's fftconv with its D skip
# ---------------------------------------------------------------------------


def hyena_fftconv(u, k, D):
    """fftconv from Hyena (safari, standalone_hyena.py), gelu left out."""
    seqlen = u.shape[-1]
    fft_size = 2 * seqlen

    k_f = torch.fft.rfft(k, n=fft_size) / fft_size
    u_f = torch.fft.rfft(u.to(dtype=k.dtype), n=fft_size)

    if len(u.shape) > 3:
        k_f = k_f.unsqueeze(1)
    y = torch.fft.irfft(u_f * k_f, n=fft_size, norm="forward")[..., :seqlen]

    out = y + u * D.unsqueeze(-1)
    return out.to(dtype=u.dtype)


class Hyena(torch.nn.Module):
    def __init__(self, gelu=False):
        super().__init__()
        self.D = torch.nn.Parameter(torch.randn(H))
        self.gelu = gelu

    def forward(self, u, k):
        out = hyena_fftconv(u, k, self.D)
        return F.gelu(out) if self.gelu else out


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_hyena_fftconv_with_skip(dtype):
    u = signal(B, H, L, dtype=dtype)
    result = check(Hyena(), (u, signal(H, L) / 8), dtype=dtype)
    # len(u.shape) and n=2 * u.shape[-1] defeat symbolic tracing.
    assert result.tracer == "make_fx"
    (conv,) = result.convolutions
    assert conv.skip and conv.element == {torch.float32: "f32", torch.float16: "f16", torch.bfloat16: "bf16"}[dtype]
    assert result.sources["D"].kind == "parameter"
    assert result.sources["u"].element == conv.element and result.sources["k"].element == "f32"
    context = fftconv.Context()
    compiled = result.graph.module(context)  # parsed and verified through the bindings
    fftconv.PassManager(context, "builtin.module(fftconv-to-butterfly)").run(compiled)


class HyenaFixedLength(torch.nn.Module):
    """Hyena's fftconv with L known, so that symbolic tracing succeeds, and
    the skip written D[:, None] * u."""

    def __init__(self, gelu=False):
        super().__init__()
        self.D = torch.nn.Parameter(torch.randn(H))
        self.gelu = gelu

    def forward(self, u, k):
        fft_size = 2 * L
        k_f = torch.fft.rfft(k, n=fft_size) / fft_size
        u_f = torch.fft.rfft(u.to(dtype=k.dtype), n=fft_size)
        y = torch.fft.irfft(u_f * k_f, n=fft_size, norm="forward")[..., :L]
        out = y + self.D[:, None] * u
        if self.gelu:
            out = F.gelu(out)
        return out.to(dtype=u.dtype)


def test_hyena_symbolic_trace():
    result = check(HyenaFixedLength(), (signal(B, H, L), signal(H, L) / 8))
    assert result.tracer == "symbolic_trace"
    assert result.convolutions[0].skip


# ---------------------------------------------------------------------------
# d. FlashFFTConv-style gates
# ---------------------------------------------------------------------------


class Gated(torch.nn.Module):
    """postgate * irfft(rfft(u * pregate, n=N) * k_f, n=N)[..., :L]."""

    def __init__(self, skip=False):
        super().__init__()
        self.k = torch.nn.Parameter(torch.randn(H, L) / 8)
        self.register_buffer("D", torch.randn(H))
        self.skip = skip

    def forward(self, u, pregate, postgate):
        n = 2 * L
        k_f = torch.fft.rfft(self.k, n=n)
        v = u * pregate
        y = torch.fft.irfft(torch.fft.rfft(v, n=n) * k_f, n=n)[..., :L]
        if self.skip:
            y = y + v * self.D.unsqueeze(-1)
        return y * postgate


@pytest.mark.parametrize("tracer", ["symbolic_trace", "make_fx"])
@pytest.mark.parametrize("skip", [False, True])
def test_gated(tracer, skip):
    inputs = (signal(B, H, L), signal(B, H, L), signal(B, H, L))
    result = check(Gated(skip), inputs, tracer)
    (conv,) = result.convolutions
    assert conv.pregate and conv.postgate and conv.skip == skip
    mlir = result.graph.mlir()
    assert "pregate %pregate postgate %postgate" in mlir
    assert result.sources["D"].kind == "buffer" if skip else "D" not in result.sources


class TwoLayers(torch.nn.Module):
    """A convolution of a convolution's (gated) output, returned with it."""

    def __init__(self):
        super().__init__()
        self.k1 = torch.nn.Parameter(torch.randn(H, L) / 8)
        self.k2 = torch.nn.Parameter(torch.randn(H, L // 2) / 8)

    def forward(self, u, gate):
        n = 2 * L
        y1 = torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(self.k1, n=n), n=n)[..., :L]
        y2 = torch.fft.irfft(torch.fft.rfft(y1 * gate, n=n) * torch.fft.rfft(self.k2, n=n), n=n)[..., :L]
        return y2, y1


@pytest.mark.parametrize("tracer", ["symbolic_trace", "make_fx"])
def test_chained_convolutions(tracer):
    result = check(TwoLayers(), (signal(B, H, L), signal(B, H, L)), tracer)
    assert len(result.convolutions) == 2
    assert sorted(result.sources) == ["gate", "k1", "k2", "u"]


# ---------------------------------------------------------------------------
# Inputs and parameters
# ---------------------------------------------------------------------------


def test_arrays_follow_the_module_parameters():
    module = CausalConv()
    u = signal(B, H, L)
    result = ingest(module, (u,))
    arrays = result.arrays(u)
    assert set(arrays) == {"u", "k"}
    np.testing.assert_array_equal(arrays["k"], module.k.detach().numpy())
    with torch.no_grad():
        module.k.mul_(-2)
    (y,) = result.run_cpu(u)
    assert relative_error(y, module(u)) <= 1e-5
    with pytest.raises(ValueError, match="expected 1 inputs"):
        result.arrays()
    with pytest.raises(ValueError, match="has shape"):
        result.arrays(signal(B, H, L + 1))


class BufferKernel(torch.nn.Module):
    """k a buffer, D a parameter stored as H x 1."""

    def __init__(self):
        super().__init__()
        self.register_buffer("k", torch.randn(H, L // 2) / 8)
        self.D = torch.nn.Parameter(torch.randn(H, 1))

    def forward(self, u):
        n = 2 * L
        y = torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(self.k, n=n), n=n)[..., :L]
        return y + u * self.D


@pytest.mark.parametrize("tracer", ["symbolic_trace", "make_fx"])
def test_buffer_kernel_and_column_skip(tracer):
    result = check(BufferKernel(), (signal(B, H, L),), tracer)
    assert result.sources["k"].kind == "buffer"
    assert result.sources["D"].shape == (H, 1)
    assert [v.shape for v in result.graph.inputs if v.name == "D"] == [(H,)]


class AttributeKernel(torch.nn.Module):
    """k a plain tensor attribute: symbolic tracing computes rfft(k) while
    tracing (a constant spectrum, not a kernel), so "auto" goes on to make_fx."""

    def __init__(self):
        super().__init__()
        self.k = torch.randn(H, L) / 8

    def forward(self, u):
        n = 2 * L
        return torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(self.k, n=n), n=n)[..., :L]


def test_plain_attribute_kernel_falls_back_to_make_fx():
    result = check(AttributeKernel(), (signal(B, H, L),))
    assert result.tracer == "make_fx"
    assert (result.sources["k"].kind, result.sources["k"].name) == ("attribute", "k")
    with pytest.raises(UnsupportedPattern, match="unrecognised nodes: "):
        ingest(AttributeKernel(), (signal(B, H, L),), tracer="symbolic_trace")


# ---------------------------------------------------------------------------
# Everything else is reported
# ---------------------------------------------------------------------------


def test_gelu_after_the_conv_is_reported():
    with pytest.raises(UnsupportedPattern, match=r"^unrecognised nodes: gelu \(torch\.nn\.functional\.gelu\)") as info:
        ingest(HyenaFixedLength(gelu=True), (signal(B, H, L), signal(H, L) / 8))
    # The cast after the gelu reads an unrecognised value: it is listed too.
    assert info.value.nodes == [("gelu", "torch.nn.functional.gelu"), ("to_1", "Tensor.to")]
    assert isinstance(info.value, ValueError)


def test_gelu_after_hyena_fftconv_is_reported_through_make_fx():
    with pytest.raises(UnsupportedPattern, match=r"unrecognised nodes: gelu \(aten\.gelu\.default\)") as info:
        ingest(Hyena(gelu=True), (signal(B, H, L), signal(H, L) / 8))
    assert [target for _, target in info.value.nodes] == ["aten.gelu.default"]


class SpectrumMagnitude(torch.nn.Module):
    def forward(self, u):
        return torch.fft.rfft(u, n=96).abs()


class DeadCode(CausalConv):
    def forward(self, u):
        unused = torch.tanh(u) * 2  # noqa: F841 - traced, never used
        return super().forward(u)


class Correlation(CausalConv):
    def forward(self, u):
        n = 2 * L
        return torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(self.k, n=n).conj(), n=n)[..., :L]


class ImplicitFilter(torch.nn.Module):
    """Hyena's implicit filter: k computed by a module is not a kernel."""

    def __init__(self):
        super().__init__()
        self.filter = torch.nn.Linear(L, L)
        self.z = torch.nn.Parameter(torch.randn(H, L))

    def forward(self, u):
        k = self.filter(self.z)
        n = 2 * L
        return torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(k, n=n), n=n)[..., :L]


@pytest.mark.parametrize(
    "module,listed",
    [
        (SpectrumMagnitude(), ["fft_rfft (torch.fft.rfft)", "(Tensor.abs)"]),
        (DeadCode(), ["tanh (torch.tanh)", "mul (operator.mul)"]),
        (Correlation(), ["fft_rfft", "fft_rfft_1", "conj (Tensor.conj)", "mul (operator.mul)", "fft_irfft", "getitem"]),
        (ImplicitFilter(), ["filter_1 (torch.nn.Linear at self.filter)", "fft_rfft_1", "mul", "fft_irfft"]),
    ],
)
def test_unrecognised_nodes_are_listed(module, listed):
    with pytest.raises(UnsupportedPattern) as info:
        ingest(module, (signal(B, H, L),))
    message = str(info.value)
    assert message.startswith("unrecognised nodes: ")
    for item in listed:
        assert item in message


# ---------------------------------------------------------------------------
# Wrong shapes
# ---------------------------------------------------------------------------


class Generic(torch.nn.Module):
    def __init__(self, n, crop=L, norm=None, divide=1):
        super().__init__()
        self.n, self.crop, self.norm, self.divide = n, crop, norm, divide

    def forward(self, u, k):
        n = self.n
        y = torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(k, n=n) / self.divide, n=n, norm=self.norm)
        return y[..., : self.crop] if self.crop is not None else y


@pytest.mark.parametrize(
    "module,inputs,message",
    [
        (Generic(2 * L), ((H, L), (H, L)), r"fft_irfft \(torch\.fft\.irfft\): the convolution of .*: u must be B x H x L \(or multi-head B x G x H x Z x L\), got shape \(4, 64\)"),
        (Generic(2 * L), ((B, H, L), (1, L)), r"k has 1 channels, u has H = 4"),
        (Generic(4 * L), ((B, H, L), (H, 2 * L)), r"kernel length K = 128 exceeds the sequence length L = 64"),
        (Generic(100), ((B, H, L), (H, L)), r"getitem \(operator\.getitem\).*FFT size n = 100 gives neither a causal "
                                            r"convolution \(n >= L \+ K - 1 = 127\) nor a circular one \(n == L = 64\)"),
        (Generic(2 * L, crop=None), ((B, H, L), (H, L)), r"fft_irfft .*the result has 128 samples on its last axis, expected "
                                                          r"the sequence length L = 64"),
        (Generic(2 * L, norm="forward"), ((B, H, L), (H, L)), r"the convolution is scaled by 128"),
        (Generic(2 * L, divide=2), ((B, H, L), (H, L)), r"the convolution is scaled by 0.5"),
    ],
)
def test_bad_shapes_raise(module, inputs, message):
    example = tuple(signal(*shape) for shape in inputs)
    with pytest.raises(ValueError, match=message) as info:
        ingest(module, example)
    assert not isinstance(info.value, UnsupportedPattern)


def test_mismatched_transform_sizes():
    class Mismatch(torch.nn.Module):
        def forward(self, u, k):
            return torch.fft.irfft(torch.fft.rfft(u, n=2 * L) * torch.fft.rfft(k, n=2 * L), n=L)

    with pytest.raises(ValueError, match=r"fft_irfft \(torch\.fft\.irfft\): inverse transform of size n = 64, "
                                         r"the forward transforms have n = 128"):
        ingest(Mismatch(), (signal(B, H, L), signal(H, L)))


def test_non_tensor_inputs_and_bad_tracer():
    with pytest.raises(ValueError, match="example input 1 must be a tensor"):
        ingest(KernelInput(), (signal(B, H, L), 3))
    with pytest.raises(ValueError, match="tracer must be"):
        ingest(KernelInput(), (signal(B, H, L), signal(H, L)), tracer="jit")


# ---------------------------------------------------------------------------
# The ingested graph's backward
# ---------------------------------------------------------------------------


class GatedKernelParameter(torch.nn.Module):
    """Hyena's gated causal long convolution with k a parameter."""

    def __init__(self):
        super().__init__()
        self.k = torch.nn.Parameter(torch.randn(H, L) / 8)

    def forward(self, u, x1, x2):
        n = 2 * L
        v = u * x1
        return x2 * torch.fft.irfft(torch.fft.rfft(v, n=n) * torch.fft.rfft(self.k, n=n), n=n)[..., :L]


def test_ingested_backward_against_autograd():
    """An ingested module's backward is derived from its graph like any
    graph's: every gradient (inputs and the parameter) against PyTorch's
    autograd of the module itself."""
    module = GatedKernelParameter()
    inputs = [signal(B, H, L).requires_grad_() for _ in range(3)]
    result = ingest(module, inputs)
    dy = signal(B, H, L)
    grads = result.gradients(*inputs, grad_outputs=dy)
    module(*inputs).backward(dy)
    expected = {"k": module.k.grad}
    for name, source in result.sources.items():
        if source.kind == "input":
            expected[name] = inputs[source.index].grad
    assert set(grads) == set(expected)
    for name, grad in grads.items():
        err = relative_error(grad, expected[name])
        assert err <= 1e-5, f"d{name}: relative error {err:.3e}"


def test_ingested_graph_compiles_for_training():
    """Safari's Hyena fftconv (skip D, f16 sequences) compiles with its
    backward for the GPU: one gradient per graph input (u, k, D)."""
    from fftconv.gpu import TrainingProgram

    length = 256
    result = ingest(Hyena(), (signal(B, H, length, dtype=torch.float16), signal(H, length) / 8))
    program = fftconv.compile(result.graph, training=True)
    assert isinstance(program, TrainingProgram)
    outputs = [a["shape"] for a in program.manifest["backward"]["arguments"] if a["role"] == "output"]
    assert outputs == [list(v.shape) for v in result.graph.inputs]


def test_ingested_gradients_refuse_a_wrong_shape():
    module = GatedKernelParameter()
    inputs = [signal(B, H, L) for _ in range(3)]
    result = ingest(module, inputs)
    with pytest.raises(ValueError, match="the gradient of output"):
        result.gradients(*inputs, grad_outputs=signal(B, H, L + 1))
