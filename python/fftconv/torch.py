"""A drop-in for FlashFFTConv's module, compiled by fftconv-mlir.

    from fftconv.torch import FFTConv
    conv = FFTConv(seqlen=2048, dtype=torch.float16)   # causal for L <= 1024
    y = conv(u, k)                                      # u: B x H x L, k: H x K (f32)
    y = conv(u, k, pregate=x1, postgate=x2)            # postgate * ((pregate * u) * k)

As in FlashFFTConv, `seqlen` is the FFT size: `seqlen >= L + K - 1` gives
the causal (linear) convolution cropped to L, `seqlen == L` the circular
one. Each configuration (shapes, dtype, gates) is compiled once, through
fftconv-to-butterfly into a native CPU library, and cached. GPU tensors
are not supported yet: the GPU code generation is still to come.
"""

import numpy as np
import torch

from .graph import Graph
from .native import CompiledFunction

_ELEMENT = {torch.float32: "f32", torch.float16: "f16", torch.bfloat16: "bf16"}


def _to_numpy(tensor):
    tensor = tensor.detach().contiguous()
    if tensor.dtype == torch.bfloat16:
        return tensor.view(torch.int16).numpy().view(np.uint16)
    return tensor.numpy()


def _from_numpy(array, dtype):
    if dtype == torch.bfloat16:
        return torch.from_numpy(array.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(array)


class FFTConv(torch.nn.Module):
    def __init__(self, seqlen, dtype=torch.float16):
        super().__init__()
        if dtype not in _ELEMENT:
            raise ValueError(f"FFTConv: dtype must be float32, float16 or bfloat16, got {dtype}")
        if int(seqlen) < 1:
            raise ValueError(f"FFTConv: seqlen must be positive, got {seqlen}")
        self.seqlen = int(seqlen)
        self.dtype = dtype
        self._compiled = {}

    def _function(self, batch, channels, length, taps, causal, gated_pre, gated_post):
        key = (batch, channels, length, taps, causal, gated_pre, gated_post)
        if key not in self._compiled:
            element = _ELEMENT[self.dtype]
            g = Graph("fftconv_module")
            u = g.input("u", (batch, channels, length), element)
            k = g.input("k", (channels, taps), "f32")
            pre = g.input("pregate", (batch, channels, length), element) if gated_pre else None
            post = g.input("postgate", (batch, channels, length), element) if gated_post else None
            g.output(g.conv(u, k, causal=causal, pregate=pre, postgate=post))
            self._compiled[key] = CompiledFunction(g)
        return self._compiled[key]

    def forward(self, u, k, pregate=None, postgate=None):
        if u.is_cuda:
            raise NotImplementedError("FFTConv: GPU tensors need the GPU code generation, which is not built yet")
        if u.dim() != 3 or u.dtype != self.dtype:
            raise ValueError(f"FFTConv: u must be B x H x L of {self.dtype}, got {tuple(u.shape)} {u.dtype}")
        batch, channels, length = u.shape
        if k.dim() != 2 or k.shape[0] != channels:
            raise ValueError(f"FFTConv: k must be H x K with H = {channels}, got {tuple(k.shape)}")
        taps = k.shape[1]
        if taps > length:
            raise ValueError(f"FFTConv: kernel length K = {taps} exceeds the sequence length L = {length}")
        if self.seqlen >= length + taps - 1:
            causal = True
        elif self.seqlen == length:
            causal = False
        else:
            raise ValueError(
                f"FFTConv(seqlen={self.seqlen}): with L = {length} and K = {taps} the FFT size must be "
                f">= L + K - 1 = {length + taps - 1} (causal) or == L (circular)"
            )
        for name, gate in (("pregate", pregate), ("postgate", postgate)):
            if gate is not None and (gate.shape != u.shape or gate.dtype != u.dtype):
                raise ValueError(f"FFTConv: {name} must match u ({tuple(u.shape)} {u.dtype})")
        function = self._function(batch, channels, length, taps, causal, pregate is not None, postgate is not None)
        arrays = [_to_numpy(u), _to_numpy(k.to(torch.float32))]
        arrays += [_to_numpy(g) for g in (pregate, postgate) if g is not None]
        return _from_numpy(function(*arrays), self.dtype)
