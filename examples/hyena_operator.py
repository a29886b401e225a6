"""A Hyena operator written as HazyResearch/safari writes its layer
(src/models/sequence/hyena.py: HyenaOperator with HyenaFilter), with torch
views in place of einops: input projection, short depthwise filter,
implicit MLP filter over a positional embedding with exponential
modulation, the order-N gated recurrence of long convolutions on 5-D
`b ho v z l` tensors with Hyena's D residual (optionally with a
bidirectional filter, safari's `k_rev`), output projection.

fftconv ingests it whole, compiling the long convolutions and keeping the
rest as PyTorch code:

    from fftconv.ingest import ingest
    layer = HyenaOperator(d_model=8, l_max=64, order=2, num_heads=2)
    result = ingest(layer, (u,), partial=True)
    y = result.compiled_module(u)      # differentiable, CPU or CUDA

(test/python/test_ingest_hyena_operator.py, test/GPU/test_ingest_gpu.py)."""

import math

import torch


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
