"""Multi-head convolutions (B x G x H x Z x L, Hyena's `b ho v z l`) with
several blocks on the GPU through fftconv.torch.CompiledGraph: the kernels
read and write the 5-D buffers through [B * G, H, Z, L] views and map
their rows (scripts/build_gpu_kernels.py, MULTI_HEAD_CASES: the single
kernel with a masked length, and the three-pass form). The output and every
gradient against float64 autograd of the definition on the rows."""

import os
import sys

import pytest

torch = pytest.importorskip("torch")
REPO = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, os.path.join(REPO, "scripts"))

from build_gpu_kernels import MULTI_HEAD_CASES, multi_head_graph  # noqa: E402
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
    """y[b, g, h, z] = conv(v[b, g, h, z], k[h]) + D[h] v, causal."""
    length = u.shape[-1]
    n = 2 * length
    v = u * pre if pre is not None else u
    y = torch.fft.irfft(torch.fft.rfft(v, n=n) * torch.fft.rfft(k, n=n)[:, None], n=n)[..., :length]
    y = y + d[:, None, None] * v
    return y * post if post is not None else y


@pytest.mark.parametrize("case", MULTI_HEAD_CASES, ids=lambda c: f"{c[0]}-G{c[2]}-Z{c[4]}-L{c[5]}")
def test_multi_head_blocks_on_gpu(case):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    element, b, g_heads, h, z, length, gated = case
    dtype = DTYPE[element]
    shape = (b, g_heads, h, z, length)
    gen = torch.Generator(device="cuda").manual_seed(length + z)
    rand = lambda *s: torch.randn(*s, device="cuda", generator=gen)  # noqa: E731
    u = rand(*shape).to(dtype)
    k = rand(h, length) / length ** 0.5
    pre = rand(*shape).to(dtype) if gated else None
    post = rand(*shape).to(dtype) if gated else None
    d = rand(h)
    inputs = [t for t in (u, k, pre, post, d) if t is not None]
    leaves = [t.detach().requires_grad_() for t in inputs]
    y = CompiledGraph(multi_head_graph(case))(*leaves)
    dy = rand(*shape).to(dtype)
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
    print(f"multi-head {case} on the GPU: " + ", ".join(f"{n} {e:.2e}" for n, e in errors.items()))
    assert max(errors.values()) <= TOLERANCE[element], errors
