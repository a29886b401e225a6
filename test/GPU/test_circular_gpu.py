"""Circular convolutions of lengths that are not powers of two (and one
below the kernels' smallest transform) on the GPU: fftconv-conv-to-fft
expands them through fftconv.circulate's taps (a second copy of k at
N - L, N >= 2L), which the spectrum kernels read as they read k
(scripts/build_gpu_kernels.py, CIRCULAR_CASES: the single kernel, a
partial kernel, L = 24 padded to N = 256, and the three-pass form at
L = 40000). The output and every gradient against float64 autograd of
the definition."""

import os
import sys

import pytest

torch = pytest.importorskip("torch")
REPO = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, os.path.join(REPO, "scripts"))

from build_gpu_kernels import CIRCULAR_CASES, circular_graph  # noqa: E402
from fftconv import kernel_configs  # noqa: E402
from fftconv.torch import CompiledGraph  # noqa: E402

TOLERANCE = {"f16": 1e-3, "bf16": 8e-3}
DTYPE = {"f16": torch.float16, "bf16": torch.bfloat16}


@pytest.fixture(autouse=True)
def kernel_cache(monkeypatch):
    cache = os.path.join(kernel_configs.kernel_dir(), "module-cache")
    if "FFTCONV_KERNEL_CACHE" not in os.environ and os.path.isdir(cache):
        monkeypatch.setenv("FFTCONV_KERNEL_CACHE", cache)


def reference(u, k, pre, post, d):
    """y = postgate * (k (*) v + D v), v = pregate * u, circular: the
    transform of size L itself (torch.fft takes any length)."""
    length = u.shape[-1]
    v = u * pre if pre is not None else u
    y = torch.fft.irfft(torch.fft.rfft(v, n=length) * torch.fft.rfft(k, n=length), n=length)
    y = y + d[:, None] * v
    return y * post if post is not None else y


@pytest.mark.parametrize("case", CIRCULAR_CASES, ids=lambda c: f"{c[0]}-L{c[3]}-K{c[4]}")
def test_circular_on_gpu(case):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    element, b, h, length, taps, gated = case
    dtype = DTYPE[element]
    gen = torch.Generator(device="cuda").manual_seed(length + taps)
    rand = lambda *s: torch.randn(*s, device="cuda", generator=gen)  # noqa: E731
    u = rand(b, h, length).to(dtype)
    k = rand(h, taps) / taps ** 0.5
    pre = rand(b, h, length).to(dtype) if gated else None
    post = rand(b, h, length).to(dtype) if gated else None
    d = rand(h)
    inputs = [t for t in (u, k, pre, post, d) if t is not None]
    leaves = [t.detach().requires_grad_() for t in inputs]
    y = CompiledGraph(circular_graph(case))(*leaves)
    dy = rand(b, h, length).to(dtype)
    y.backward(dy)
    as64 = [t.detach().double().requires_grad_() for t in inputs]
    named = dict(zip(("u", "k") + (("pre", "post") if gated else ()) + ("d",), as64))
    y64 = reference(named["u"], named["k"], named.get("pre"), named.get("post"), named["d"])
    y64.backward(dy.double())

    def error(x, ref):
        return float((x.detach().double() - ref.detach()).norm() / ref.detach().norm())

    errors = {"y": error(y, y64)}
    for name, leaf, ref in zip(named, leaves, as64):
        errors["d" + name] = error(leaf.grad, ref.grad)
    print(f"circular {case} on the GPU: " + ", ".join(f"{n} {e:.2e}" for n, e in errors.items()))
    assert max(errors.values()) <= TOLERANCE[element], errors
