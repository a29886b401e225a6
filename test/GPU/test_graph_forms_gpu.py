"""The convolution forms beyond B x H x L with a power-of-two circular
length, on the GPU through fftconv.torch.CompiledGraph (kernels from the
module cache scripts/build_gpu_kernels.py fills, or compiled where the build
exists). Each checks the output and every gradient against float64 autograd
of the form's definition:

- bidirectional (a reverse kernel, Hyena's k_rev), BIDIRECTIONAL_CASES: the
  spectrum kernels read kk[t] = k[t] + kr[(N - t) mod N];
- multi-head with blocks (B x G x H x Z x L), MULTI_HEAD_CASES: the kernels
  read and write [B * G, H, Z, L] views and map their rows;
- circular of a length that is not a power of two (and one below the
  smallest transform), CIRCULAR_CASES: fftconv.circulate's taps;

each in the single kernel and the three-pass form, with masked lengths."""

import os
import sys

import pytest

torch = pytest.importorskip("torch")
REPO = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, os.path.join(REPO, "scripts"))

from build_gpu_kernels import (  # noqa: E402
    BIDIRECTIONAL_CASES, CIRCULAR_CASES, MULTI_HEAD_CASES, bidirectional_graph, circular_graph, multi_head_graph)
from fftconv import kernel_configs  # noqa: E402
from fftconv.torch import CompiledGraph  # noqa: E402

TOLERANCE = {"f16": 1e-3, "bf16": 8e-3}
DTYPE = {"f16": torch.float16, "bf16": torch.bfloat16}


@pytest.fixture(autouse=True)
def kernel_cache(monkeypatch):
    cache = os.path.join(kernel_configs.kernel_dir(), "module-cache")
    if "FFTCONV_KERNEL_CACHE" not in os.environ and os.path.isdir(cache):
        monkeypatch.setenv("FFTCONV_KERNEL_CACHE", cache)


def check(graph, element, named, reference, seed, what):
    """Runs `graph` on the CUDA tensors `named` (graph input order) and its
    backward on a random dy; compares y and every gradient with `reference`
    (the same names, float64) under autograd."""
    leaves = [t.detach().requires_grad_() for t in named.values()]
    y = CompiledGraph(graph)(*leaves)
    gen = torch.Generator(device="cuda").manual_seed(seed)
    dy = torch.randn(y.shape, device="cuda", generator=gen).to(y.dtype)
    y.backward(dy)
    as64 = {name: t.detach().double().requires_grad_() for name, t in named.items()}
    y64 = reference(**as64)
    y64.backward(dy.double())

    def error(x, ref):
        return float((x.detach().double() - ref.detach()).norm() / ref.detach().norm())

    errors = {"y": error(y, y64)}
    for (name, ref), leaf in zip(as64.items(), leaves):
        errors["d" + name] = error(leaf.grad, ref.grad)
    print(f"{what} on the GPU: " + ", ".join(f"{n} {e:.2e}" for n, e in errors.items()))
    assert max(errors.values()) <= TOLERANCE[element], errors


def inputs(element, seed, sequences, kernels, gated, channels):
    """u, the kernels (scaled by their length), the gates and d, by name."""
    gen = torch.Generator(device="cuda").manual_seed(seed)
    rand = lambda *s: torch.randn(*s, device="cuda", generator=gen)  # noqa: E731
    named = {"u": rand(*sequences).to(DTYPE[element])}
    for name, shape in kernels.items():
        named[name] = rand(*shape) / shape[-1] ** 0.5
    if gated:
        named["pregate"] = rand(*sequences).to(DTYPE[element])
        named["postgate"] = rand(*sequences).to(DTYPE[element])
    named["d"] = rand(channels)
    return named


def gated(y, v, d, postgate):
    """+ D v, * postgate: the epilogue every form shares."""
    channel_axis = 1 if v.dim() == 3 else 2  # B x H x L, or B x G x H x Z x L
    y = y + d.reshape((-1,) + (1,) * (v.dim() - channel_axis - 1)) * v
    return y * postgate if postgate is not None else y


@pytest.mark.parametrize("case", BIDIRECTIONAL_CASES, ids=lambda c: f"{c[0]}-L{c[3]}-K{c[4]}-Kr{c[5]}")
def test_bidirectional(case):
    element, b, h, length, taps, reverse_taps, with_gates = case

    def reference(u, k, kr, d, pregate=None, postgate=None):
        n = 1 << (length + max(taps, reverse_taps) - 2).bit_length()
        v = u * pregate if pregate is not None else u
        spectrum = torch.fft.rfft(k, n=n) + torch.fft.rfft(kr, n=n).conj()
        return gated(torch.fft.irfft(torch.fft.rfft(v, n=n) * spectrum, n=n)[..., :length], v, d, postgate)

    named = inputs(element, length + reverse_taps, (b, h, length), {"k": (h, taps), "kr": (h, reverse_taps)},
                   with_gates, h)
    named = {n: named[n] for n in ("u", "k", "kr", "pregate", "postgate", "d") if n in named}
    check(bidirectional_graph(case), element, named, reference, length, f"bidirectional {case}")


@pytest.mark.parametrize("case", MULTI_HEAD_CASES, ids=lambda c: f"{c[0]}-G{c[2]}-Z{c[4]}-L{c[5]}")
def test_multi_head_blocks(case):
    element, b, heads, h, blocks, length, with_gates = case

    def reference(u, k, d, pregate=None, postgate=None):
        v = u * pregate if pregate is not None else u
        spectrum = torch.fft.rfft(k, n=2 * length)[:, None]
        y = torch.fft.irfft(torch.fft.rfft(v, n=2 * length) * spectrum, n=2 * length)[..., :length]
        return gated(y, v, d, postgate)

    named = inputs(element, length + blocks, (b, heads, h, blocks, length), {"k": (h, length)}, with_gates, h)
    named = {n: named[n] for n in ("u", "k", "pregate", "postgate", "d") if n in named}
    check(multi_head_graph(case), element, named, reference, length, f"multi-head {case}")


@pytest.mark.parametrize("case", CIRCULAR_CASES, ids=lambda c: f"{c[0]}-L{c[3]}-K{c[4]}")
def test_circular(case):
    element, b, h, length, taps, with_gates = case

    def reference(u, k, d, pregate=None, postgate=None):
        v = u * pregate if pregate is not None else u
        y = torch.fft.irfft(torch.fft.rfft(v, n=length) * torch.fft.rfft(k, n=length), n=length)
        return gated(y, v, d, postgate)

    named = inputs(element, length + taps, (b, h, length), {"k": (h, taps)}, with_gates, h)
    named = {n: named[n] for n in ("u", "k", "pregate", "postgate", "d") if n in named}
    check(circular_graph(case), element, named, reference, length, f"circular {case}")
