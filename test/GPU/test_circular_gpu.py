"""Circular convolutions of lengths that are not powers of two (and one
below the kernels' smallest transform) on the GPU: fftconv-conv-to-fft
expands them through fftconv.circulate's taps (a second copy of k at
N - L, N >= 2L), which the spectrum kernels read as they read k
(scripts/build_gpu_kernels.py, CIRCULAR_CASES: the single kernel, a
partial kernel, L = 24 padded to N = 256, and the three-pass form at
L = 40000). The forward against the float64 oracle (numpy); their
gradients run on the CPU."""

import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
REPO = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, os.path.join(REPO, "scripts"))

from build_gpu_kernels import CIRCULAR_CASES, circular_graph  # noqa: E402
from fftconv import kernel_configs, reference  # noqa: E402
from fftconv.torch import CompiledGraph  # noqa: E402

TOLERANCE = {"f16": 1e-3, "bf16": 8e-3}
DTYPE = {"f16": torch.float16, "bf16": torch.bfloat16}


@pytest.fixture(autouse=True)
def kernel_cache(monkeypatch):
    cache = os.path.join(kernel_configs.kernel_dir(), "module-cache")
    if "FFTCONV_KERNEL_CACHE" not in os.environ and os.path.isdir(cache):
        monkeypatch.setenv("FFTCONV_KERNEL_CACHE", cache)


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
    with torch.no_grad():
        y = CompiledGraph(circular_graph(case))(*inputs)
    as64 = lambda t: None if t is None else t.double().cpu().numpy()  # noqa: E731
    ref = reference.conv(as64(u), as64(k), "circular", pregate=as64(pre), postgate=as64(post), skip=as64(d))
    error = float(np.linalg.norm(y.double().cpu().numpy() - ref) / np.linalg.norm(ref))
    print(f"circular {case} on the GPU: relative error {error:.2e}")
    assert error <= TOLERANCE[element]
