"""fftconv.torch.FFTConv against PyTorch's own FFT convolution, with the
semantics of FlashFFTConv's module (seqlen is the FFT size)."""

import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

from fftconv.torch import FFTConv  # noqa: E402

TOLERANCE = {torch.float32: 1e-5, torch.float16: 1e-3, torch.bfloat16: 8e-3}


def torch_reference(u, k, seqlen, pregate=None, postgate=None):
    u = u.double() * (pregate.double() if pregate is not None else 1)
    y = torch.fft.irfft(torch.fft.rfft(u, n=seqlen) * torch.fft.rfft(k.double(), n=seqlen), n=seqlen)
    y = y[..., : u.shape[-1]]
    return y * (postgate.double() if postgate is not None else 1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("mode", ["causal", "circular"])
@pytest.mark.parametrize("gated", [False, True])
def test_matches_pytorch(dtype, mode, gated):
    torch.manual_seed(0)
    b, h, length = 2, 4, 256
    seqlen = 2 * length if mode == "causal" else length
    u = torch.randn(b, h, length).to(dtype)
    k = torch.randn(h, length) / 16
    pre = torch.randn(b, h, length).to(dtype) if gated else None
    post = torch.randn(b, h, length).to(dtype) if gated else None
    y = FFTConv(seqlen, dtype)(u, k, pre, post)
    assert y.dtype == dtype and y.shape == u.shape
    expected = torch_reference(u, k, seqlen, pre, post)
    err = (torch.linalg.norm((y.double() - expected).flatten()) / torch.linalg.norm(expected.flatten())).item()
    assert err <= TOLERANCE[dtype], f"relative error {err:.3e}"


def test_compiled_once_per_configuration():
    conv = FFTConv(128, torch.float32)
    u, k = torch.randn(1, 2, 64), torch.randn(2, 64)
    first = conv(u, k)
    conv(torch.randn(1, 2, 64), k)
    assert len(conv._compiled) == 1
    conv(torch.randn(3, 2, 64), k)
    assert len(conv._compiled) == 2
    assert torch.isfinite(first).all()


@pytest.mark.parametrize(
    "args,message",
    [
        ((torch.randn(1, 2, 64), torch.randn(3, 64)), "k must be H x K with H = 2"),
        ((torch.randn(1, 2, 64), torch.randn(2, 65)), "exceeds the sequence length"),
        ((torch.randn(1, 2, 100), torch.randn(2, 100)), "FFT size must be"),
        ((torch.randn(1, 2, 64).half(), torch.randn(2, 64)), "u must be B x H x L of torch.float32"),
    ],
)
def test_bad_input_raises(args, message):
    with pytest.raises(ValueError, match=message):
        FFTConv(128, torch.float32)(*args)
