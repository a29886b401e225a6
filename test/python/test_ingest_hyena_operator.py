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

import math
import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

from fftconv.ingest import UnsupportedPattern, ingest  # noqa: E402


def long_conv(u, k, D, k_rev=None):
    """Hyena's reference FFT convolution with its D residual (gelu and
    dropout off, as HyenaFilter calls it)."""
    seqlen = u.shape[-1]
    fft_size = 2 * seqlen
    k_f = torch.fft.rfft(k, n=fft_size) / fft_size
    if k_rev is not None:
        k_f = k_f + (torch.fft.rfft(k_rev, n=fft_size) / fft_size).conj()
    u_f = torch.fft.rfft(u.to(dtype=k.dtype), n=fft_size)
    if len(u.shape) > 3:
        k_f = k_f.unsqueeze(1)
    y = torch.fft.irfft(u_f * k_f, n=fft_size, norm="forward")[..., :seqlen]
    return (y + u * D.unsqueeze(-1)).to(dtype=u.dtype)


class ImplicitFilter(torch.nn.Module):
    """An MLP of sines over a positional embedding, times a decaying
    window: one kernel of length L per output channel."""

    def __init__(self, channels, seq_len, width=16, emb_dim=5):
        super().__init__()
        bands = (emb_dim - 1) // 2
        t = torch.linspace(0, 1, seq_len)[None, :, None]
        w = 2 * math.pi * torch.arange(seq_len)[None, :, None] / seq_len
        f = torch.linspace(1e-4, bands - 1, bands)[None, None]
        z = torch.exp(-1j * f * w)
        self.register_buffer("z", torch.cat([t, z.real, z.imag], dim=-1))
        self.register_buffer("t", t)
        self.freq = torch.nn.Parameter(torch.ones(1, width))
        self.layers = torch.nn.ModuleList([torch.nn.Linear(emb_dim, width), torch.nn.Linear(width, width),
                                           torch.nn.Linear(width, channels, bias=False)])
        self.deltas = torch.nn.Parameter(torch.linspace(math.log(1e-2) / 1.5, math.log(1e-2) / 0.3, channels)[None, None])
        self.bias = torch.nn.Parameter(torch.randn(channels))

    def filter(self, length):
        h = self.z[:, :length]
        for layer in self.layers[:-1]:
            h = torch.sin(self.freq * layer(h))
        h = self.layers[-1](h)
        return h * torch.exp(-self.t[:, :length] * self.deltas.abs())


class HyenaOperator(torch.nn.Module):
    def __init__(self, d_model=8, l_max=64, order=2, num_heads=2, num_blocks=1, bidirectional=False):
        super().__init__()
        self.d_model, self.l_max, self.order = d_model, l_max, order
        self.num_heads, self.num_blocks = num_heads, num_blocks
        self.head_dim = d_model // num_heads
        self.in_proj = torch.nn.Linear(d_model, (order + 1) * d_model)
        self.out_proj = torch.nn.Linear(d_model, d_model)
        width = d_model * (order + 1)
        self.short_filter = torch.nn.Conv1d(width, width, 3, groups=width, padding=2)
        channels = self.head_dim * (order - 1)
        self.filter_fn = ImplicitFilter(channels, l_max)
        self.filter_rev = ImplicitFilter(channels, l_max) if bidirectional else None

    def kernels(self, filter_fn, length):
        k = filter_fn.filter(length)[0]  # l x (v o)
        return k.reshape(length, self.head_dim, self.order - 1).permute(2, 1, 0)  # o v l

    def forward(self, u):
        length = u.size(-2)
        l_filter = min(length, self.l_max)
        u = self.in_proj(u).transpose(1, 2)  # b d l
        uc = self.short_filter(u)[..., :l_filter]
        b = uc.shape[0]
        uc = uc.reshape(b, self.num_heads, self.head_dim * (self.order + 1), self.num_blocks,
                        l_filter // self.num_blocks)  # b ho v z l
        *x, v = uc.split(self.head_dim, dim=2)
        k = self.kernels(self.filter_fn, l_filter // self.num_blocks)
        k_rev = self.kernels(self.filter_rev, l_filter // self.num_blocks) if self.filter_rev is not None else None
        bias = self.filter_fn.bias.reshape(self.head_dim, self.order - 1).t()  # o v
        for o, x_i in enumerate(reversed(x[1:])):
            v = v * x_i
            v = long_conv(v, k[o], bias[o, None, :, None], None if k_rev is None else k_rev[o])
        y = (v * x[0]).permute(0, 3, 4, 1, 2).reshape(b, length, self.d_model)  # b (z l) (h v)
        return self.out_proj(y)


def relative_error(x, y):
    return float((x.double() - y).norm() / y.norm())


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
