"""fftconv.torch.FFTConv on CUDA tensors: the drop-in module runs the
compiled kernels through the runtime and matches the float64 reference.
The kernels come from FFTCONV_KERNEL_CACHE (scripts/build_gpu_kernels.py
fills <kernel dir>/module-cache), or are compiled where the build exists."""

import os
import sys

import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

from fftconv import kernel_configs, reference  # noqa: E402
from fftconv.torch import FFTConv  # noqa: E402

CASES = [(2048, 2, 8, 1024, 1024, False), (4096, 2, 8, 4096, 1000, True)]
TOLERANCE = {torch.float16: 1e-3, torch.bfloat16: 8e-3, torch.float32: 1e-5}


@pytest.fixture(autouse=True)
def kernel_cache(monkeypatch):
    cache = os.path.join(kernel_configs.kernel_dir(), "module-cache")
    if "FFTCONV_KERNEL_CACHE" not in os.environ and os.path.isdir(cache):
        monkeypatch.setenv("FFTCONV_KERNEL_CACHE", cache)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32], ids=["f16", "bf16", "f32"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"seqlen{c[0]}-L{c[3]}-K{c[4]}{'-gated' if c[5] else ''}")
def test_module_on_gpu(case, dtype):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    seqlen, b, h, l, k, gated = case
    g = torch.Generator(device="cuda").manual_seed(seqlen + l)
    u = torch.randn(b, h, l, device="cuda", generator=g).to(dtype)
    kernel = torch.randn(h, k, device="cuda", generator=g) / k ** 0.5
    pre = torch.randn(b, h, l, device="cuda", generator=g).to(dtype) if gated else None
    post = torch.randn(b, h, l, device="cuda", generator=g).to(dtype) if gated else None
    y = FFTConv(seqlen, dtype)(u, kernel, pregate=pre, postgate=post)
    assert y.shape == u.shape and y.dtype == dtype and y.is_cuda
    mode = "causal" if seqlen >= l + k - 1 else "circular"
    as64 = lambda t: None if t is None else t.double().cpu().numpy()
    ref = reference.conv(as64(u), as64(kernel), mode=mode, pregate=as64(pre), postgate=as64(post))
    error = reference.relative_error(y.double().cpu().numpy(), ref)
    print(f"FFTConv({seqlen}, {dtype}) on the GPU: relative error {error:.3e}")
    assert error <= TOLERANCE[dtype]
