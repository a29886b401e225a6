"""Bidirectional convolutions (fftconv.conv with a reverse kernel, Hyena's
k_rev) on the GPU through fftconv.torch.CompiledGraph: the single kernel,
a partial reverse kernel, the three-pass form and a masked three-pass
length (scripts/build_gpu_kernels.py, BIDIRECTIONAL_CASES). The output and
every gradient (u, k, kr, the gates, D) against float64 autograd of the
spectral definition, y = postgate * (irfft(rfft(v) (rfft(k) +
conj(rfft(kr))))[:L] + D v)."""

import os
import sys

import pytest

torch = pytest.importorskip("torch")
REPO = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, os.path.join(REPO, "scripts"))

from build_gpu_kernels import BIDIRECTIONAL_CASES, bidirectional_graph  # noqa: E402
from fftconv import kernel_configs  # noqa: E402
from fftconv.torch import CompiledGraph  # noqa: E402

TOLERANCE = {"f16": 1e-3, "bf16": 8e-3}
DTYPE = {"f16": torch.float16, "bf16": torch.bfloat16}


@pytest.fixture(autouse=True)
def kernel_cache(monkeypatch):
    cache = os.path.join(kernel_configs.kernel_dir(), "module-cache")
    if "FFTCONV_KERNEL_CACHE" not in os.environ and os.path.isdir(cache):
        monkeypatch.setenv("FFTCONV_KERNEL_CACHE", cache)


def reference(u, k, kr, pre, post, d):
    length = u.shape[-1]
    n = 1 << (length + max(k.shape[-1], kr.shape[-1]) - 2).bit_length()
    v = u * pre if pre is not None else u
    spectrum = torch.fft.rfft(k, n=n) + torch.fft.rfft(kr, n=n).conj()
    y = torch.fft.irfft(torch.fft.rfft(v, n=n) * spectrum, n=n)[..., :length] + d[:, None] * v
    return y * post if post is not None else y


@pytest.mark.parametrize("case", BIDIRECTIONAL_CASES, ids=lambda c: f"{c[0]}-L{c[3]}-K{c[4]}-Kr{c[5]}")
def test_bidirectional_on_gpu(case):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    element, b, h, length, taps, reverse_taps, gated = case
    dtype = DTYPE[element]
    g = torch.Generator(device="cuda").manual_seed(length + reverse_taps)
    rand = lambda *shape: torch.randn(*shape, device="cuda", generator=g)  # noqa: E731
    u = rand(b, h, length).to(dtype)
    k, kr = rand(h, taps) / taps ** 0.5, rand(h, reverse_taps) / reverse_taps ** 0.5
    pre = rand(b, h, length).to(dtype) if gated else None
    post = rand(b, h, length).to(dtype) if gated else None
    d = rand(h)
    inputs = [t for t in (u, k, kr, pre, post, d) if t is not None]
    module = CompiledGraph(bidirectional_graph(case))

    leaves = [t.detach().requires_grad_() for t in inputs]
    y = module(*leaves)
    dy = rand(b, h, length).to(dtype)
    y.backward(dy)
    as64 = [t.detach().double().requires_grad_() for t in inputs]
    named = dict(zip(("u", "k", "kr") + (("pre", "post") if gated else ()) + ("d",), as64))
    y64 = reference(named["u"], named["k"], named["kr"], named.get("pre"), named.get("post"), named["d"])
    y64.backward(dy.double())

    def error(x, ref):
        return float((x.detach().double() - ref.detach()).norm() / ref.detach().norm())

    errors = {"y": error(y, y64)}
    for name, leaf, ref in zip(named, leaves, as64):
        errors["d" + name] = error(leaf.grad, ref.grad)
    print(f"bidirectional {case} on the GPU: " + ", ".join(f"{n} {e:.2e}" for n, e in errors.items()))
    # dk and dkr sum over B x L products: their error is the accumulation's.
    assert max(errors.values()) <= TOLERANCE[element], errors
