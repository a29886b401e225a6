"""Partial ingestion of a whole Hyena operator (the layer of
HazyResearch/safari's src/models/sequence/hyena.py, written here with
torch views in place of einops): input projection, short depthwise filter,
implicit MLP filter with positional embedding and exponential modulation,
the order-N gated recurrence of long convolutions on 5-D `b ho v z l`
tensors (optionally with a bidirectional filter, safari's `k_rev`), output
projection. The long convolutions are compiled (fftconv.conv, multi-head,
skip D, the reverse kernel); everything else stays PyTorch. Checked on
random inputs against the same module in float64, forward and every
gradient (the filter MLP's parameters get theirs through dk)."""

import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

from fftconv.ingest import UnsupportedPattern, ingest  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
from hyena_operator import HyenaOperator  # noqa: E402


def relative_error(x, y):
    return float((x.detach().double() - y.detach()).norm() / y.detach().norm())


@pytest.mark.parametrize("order,num_heads,num_blocks,bidirectional", [
    (2, 2, 1, False), (3, 2, 1, False), (2, 1, 2, False), (2, 2, 1, True),
])
def test_hyena_operator_forward_and_backward(order, num_heads, num_blocks, bidirectional):
    torch.manual_seed(order * 10 + num_heads + num_blocks + bidirectional)
    layer = HyenaOperator(order=order, num_heads=num_heads, num_blocks=num_blocks, bidirectional=bidirectional)
    u = torch.randn(2, 64, 8)
    result = ingest(layer, (u,), partial=True)
    # Every long convolution of the recurrence is compiled.
    assert len(result.convolutions) == order - 1, result
    assert all(c.skip and c.shape == (2, num_heads, 8 // num_heads, num_blocks, 64 // num_blocks)
               for c in result.convolutions)
    assert all((c.reverse_taps is not None) == bidirectional for c in result.convolutions)
    code = result.graph_module.code
    assert "_fft_r2c" not in code and "_fft_c2r" not in code, code  # no transform left to PyTorch
    reference = HyenaOperator(order=order, num_heads=num_heads, num_blocks=num_blocks,
                              bidirectional=bidirectional).double()
    reference.load_state_dict({name: t.double() for name, t in layer.state_dict().items()})

    u64 = u.double().requires_grad_()
    y64 = reference(u64)
    dy = torch.randn_like(y64)
    y64.backward(dy)

    uc = u.clone().requires_grad_()
    y = result.compiled_module(uc)
    assert relative_error(y, y64) < 1e-5
    y.backward(dy.float())
    assert relative_error(uc.grad, u64.grad) < 1e-5
    expected = dict(reference.named_parameters())
    for name, parameter in layer.named_parameters():
        if expected[name].grad is None:  # unused (the reverse filter's bias)
            assert parameter.grad is None, name
            continue
        assert parameter.grad is not None, name
        assert relative_error(parameter.grad, expected[name].grad) < 1e-4, name


def test_whole_operator_without_partial_names_the_way():
    layer = HyenaOperator()
    with pytest.raises(UnsupportedPattern, match=r"partial=True"):
        ingest(layer, (torch.randn(2, 64, 8),))


def test_symbolic_trace_failure_says_why():
    layer = HyenaOperator()
    with pytest.raises(ValueError, match=r"symbolic_trace cannot trace this module .*tracer='make_fx'"):
        ingest(layer, (torch.randn(2, 64, 8),), tracer="symbolic_trace", partial=True)


def test_a_convolution_that_cannot_compile_stays_pytorch_and_says_why():
    # n = L + 1 gives neither a causal nor a circular convolution: PyTorch
    # computes it as written, and the result says why.
    class Odd(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.k = torch.nn.Parameter(torch.randn(4, 64))

        def forward(self, u):
            y = torch.fft.irfft(torch.fft.rfft(u, n=65) * torch.fft.rfft(self.k, n=65), n=65)[..., :64]
            return torch.relu(y)

    layer = Odd()
    u = torch.randn(2, 4, 64)
    result = ingest(layer, (u,), partial=True)
    assert result.convolutions == []
    assert any("neither a causal convolution" in reason for _, reason in result.skipped), result.skipped
    assert torch.allclose(result.compiled_module(u), layer(u))


def test_refusals_of_the_new_forms_say_why():
    # A 5-D u whose kernel spectrum is not set to broadcast over the blocks
    # (Hyena unsqueezes it), and a reverse kernel whose FFT size lets its
    # lags wrap: each refused in one line naming the node and the cause.
    class NoUnsqueeze(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.k = torch.nn.Parameter(torch.randn(4, 64))

        def forward(self, u):
            n = 128
            y = torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(self.k, n=n), n=n)
            return y[..., :64]

    with pytest.raises(ValueError, match=r"fft_irfft.*does not broadcast its 4 channels onto u's channel axis 2 "
                                         r".*k_f.unsqueeze\(1\)"):
        ingest(NoUnsqueeze(), (torch.randn(2, 3, 4, 4, 64),))

    class ShortReverse(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.k = torch.nn.Parameter(torch.randn(4, 8))
            self.kr = torch.nn.Parameter(torch.randn(4, 64))

        def forward(self, u):
            n = 80  # >= L + K - 1 = 71, but < L + K' - 1 = 127
            kf = torch.fft.rfft(self.k, n=n) + torch.fft.rfft(self.kr, n=n).conj()
            return torch.fft.irfft(torch.fft.rfft(u, n=n) * kf, n=n)[..., :64]

    with pytest.raises(ValueError, match=r"FFT size n = 80 with a reverse kernel .* n >= L \+ K' - 1 = 127"):
        ingest(ShortReverse(), (torch.randn(2, 4, 64),))
