"""The GPU backward of fftconv.torch.FFTConv against float64 autograd on
the CPU: the compiled backward kernels (fftconv.compile(training=True):
every power of two N from 256 to 4M, the single-kernel form to 32K and
the three-pass form past it, and lengths that are not a multiple of 8) and
the INTERIM torch.fft fallback; every gradient,
fp16 and bf16, causal and circular, gated, partial kernels, odd batch; the
skip's gradient through compiled configurations of
scripts/build_gpu_kernels.py, with poisoned outputs. Skipped without a CUDA
GPU."""

import os
import sys

import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

from fftconv import gpu, kernel_configs  # noqa: E402
from fftconv.torch import FFTConv, interim_cuda_backward  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
from build_gpu_kernels import F32_TRAINING_CASES, TRAINING_CASES  # noqa: E402

TOLERANCE = {torch.float16: 1e-3, torch.bfloat16: 8e-3}
# The interim backward's cases, (seqlen, B, H, L, K, gated): causal
# (seqlen >= L + K - 1) and circular (seqlen == L), odd B, K < L, up to
# N = 1M.
CASES = [
    (512, 3, 4, 256, 256, True),
    (256, 3, 4, 256, 256, True),
    (8192, 1, 2, 4096, 1000, True),
    (4096, 2, 2, 4096, 4096, False),
    (65536, 1, 2, 32768, 32768, True),
    (1 << 20, 1, 1, 1 << 19, 1 << 19, True),
]


def _reference(u, k, pre, post, dy, seqlen, causal, forward=None):
    """Float64 autograd on the CPU of y = post * ((pre * u) * k): the
    gradients (and y in `forward`, a list, where given)."""
    leaves = [t.detach().cpu().double().requires_grad_() if t is not None else None for t in (u, k, pre, post)]
    uu, kk, pp, qq = leaves
    length = uu.shape[-1]
    n = seqlen if causal else length
    v = uu * pp if pp is not None else uu
    y = torch.fft.irfft(torch.fft.rfft(v, n=n) * torch.fft.rfft(kk, n=n), n=n)[..., :length]
    if qq is not None:
        y = y * qq
    if forward is not None:
        forward.append(y.detach())
    y.backward(dy.detach().cpu().double())
    return [t.grad if t is not None else None for t in leaves]


def _error(got, expected):
    got = got.detach().cpu().double()
    expected = expected.detach().cpu().double()
    return (torch.linalg.norm((got - expected).flatten()) / torch.linalg.norm(expected.flatten())).item()


def _inputs(case, dtype, device):
    seqlen, b, h, length, taps, gated = case
    g = torch.Generator(device=device).manual_seed(seqlen + length + taps)
    u = torch.randn(b, h, length, device=device, generator=g).to(dtype)
    k = torch.randn(h, taps, device=device, generator=g) / taps ** 0.5
    pre = torch.randn(b, h, length, device=device, generator=g).to(dtype) if gated else None
    post = torch.randn(b, h, length, device=device, generator=g).to(dtype) if gated else None
    dy = torch.randn(b, h, length, device=device, generator=g).to(dtype)
    return u, k, pre, post, dy


def _case_id(case):
    seqlen, b, h, length, taps, gated = case
    mode = "circular" if seqlen == length else "causal"
    return f"{mode}-N{seqlen}-B{b}-L{length}-K{taps}{'-gated' if gated else ''}"


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["f16", "bf16"])
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_interim_backward(case, dtype, device):
    seqlen, _, _, length, _, _ = case
    causal = seqlen != length
    u, k, pre, post, dy = _inputs(case, dtype, device)
    got = interim_cuda_backward(seqlen, causal, u, k, pre, post, dy)
    expected = _reference(u, k, pre, post, dy, seqlen, causal)
    for name, g, e in zip(("u", "k", "pregate", "postgate"), got, expected):
        assert (g is None) == (e is None), name
        if g is None:
            continue
        assert g.is_cuda and g.shape == e.shape
        assert torch.isfinite(g).all(), f"d{name} has non-finite values"
        err = _error(g, e)
        assert err <= TOLERANCE[dtype], f"d{name}: relative error {err:.3e}"


@pytest.fixture
def kernel_cache(monkeypatch):
    cache = os.path.join(kernel_configs.kernel_dir(), "module-cache")
    if "FFTCONV_KERNEL_CACHE" not in os.environ and os.path.isdir(cache):
        monkeypatch.setenv("FFTCONV_KERNEL_CACHE", cache)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["f16", "bf16"])
@pytest.mark.parametrize("case", TRAINING_CASES, ids=_case_id)
def test_compiled_backward(case, dtype, device, kernel_cache):
    """loss.backward() through FFTConv on CUDA tensors runs the compiled
    backward kernels; y and every gradient land on the GPU within
    tolerance."""
    seqlen, _, _, length, _, gated = case
    u, k, pre, post, dy = _inputs(case, dtype, device)
    leaves = [t.clone().requires_grad_() if t is not None else None for t in (u, k, pre, post)]
    module = FFTConv(seqlen, dtype)
    y = module(*leaves)
    assert y.grad_fn is not None and y.is_cuda
    y.backward(dy)
    assert module.last_backward == "compiled"
    forward = []
    expected = _reference(u, k, pre, post, dy, seqlen, seqlen != length, forward)
    err = _error(y, forward[0])
    assert err <= TOLERANCE[dtype], f"y: relative error {err:.3e}"
    for name, leaf, e in zip(("u", "k", "pregate", "postgate"), leaves, expected):
        if leaf is None:
            continue
        assert leaf.grad is not None and leaf.grad.is_cuda, name
        assert torch.isfinite(leaf.grad).all(), f"d{name} has non-finite values"
        err = _error(leaf.grad, e)
        assert err <= TOLERANCE[dtype], f"d{name}: relative error {err:.3e}"


def _compiled_step_errors(case, dtype, u, k, pre, post, dy):
    """One step of FFTConv in `dtype` on the GPU through the compiled
    backward: the relative errors of y and of every gradient against
    float64 autograd, each gradient checked finite."""
    seqlen, _, _, length, _, _ = case
    leaves = [t.clone().requires_grad_() if t is not None else None for t in (u, k, pre, post)]
    module = FFTConv(seqlen, dtype)
    y = module(*leaves)
    y.backward(dy)
    assert module.last_backward == "compiled"
    forward = []
    expected = _reference(u, k, pre, post, dy, seqlen, seqlen != length, forward)
    errors = {"y": _error(y, forward[0])}
    for name, leaf, e in zip(("u", "k", "pregate", "postgate"), leaves, expected):
        if leaf is not None:
            assert torch.isfinite(leaf.grad).all(), f"d{name} has non-finite values"
            errors["d" + name] = _error(leaf.grad, e)
    return errors


# A gradient's scale (2^-30: below f16's smallest subnormal, 2^-24, where
# bf16 and f32 gradients of a mean loss often are) and inputs past f16's
# largest value (2^20 x N(0, 1)); dy x 2^-3 and u x 2^12 stay within the
# bounds where a block stored before it knows its scale scales in place.
RANGE_SCALES = {
    "tiny-dy": (1.0, 2.0 ** -30),
    "small-dy": (1.0, 2.0 ** -3),
    "large-u": (2.0 ** 12, 1.0),
    "huge-u": (2.0 ** 20, 1.0),
}


@pytest.mark.parametrize("scale", RANGE_SCALES, ids=str)
@pytest.mark.parametrize("case", TRAINING_CASES, ids=_case_id)
def test_compiled_backward_holds_any_range(case, scale, device, kernel_cache):
    """bf16 holds values f16 does not, and the kernels compute in f16: they
    scale each block's sequences into f16's range and back, so a bf16 step
    with dy (or u) far from N(0, 1) gives the gradients of test_compiled_backward."""
    u_factor, dy_factor = RANGE_SCALES[scale]
    u, k, pre, post, dy = _inputs(case, torch.bfloat16, device)
    u = (u.double() * u_factor).to(torch.bfloat16)
    dy = (dy.double() * dy_factor).to(torch.bfloat16)
    errors = _compiled_step_errors(case, torch.bfloat16, u, k, pre, post, dy)
    print(case, scale, errors)
    for name, err in errors.items():
        assert err <= TOLERANCE[torch.bfloat16], f"{name}: relative error {err:.3e}"


def _training_configs():
    return [c for c in kernel_configs.find_configs() if c.raw.get("training")]


@pytest.mark.parametrize("training_config", _training_configs(), ids=lambda c: c.name)
def test_compiled_backward_of_configuration(training_config, device):
    """The backward program of a compiled configuration (gated, circular,
    skip, K < L, odd B; Squash and Smooth on k): du, dk, dpregate,
    dpostgate and dD, written into outputs poisoned with NaN, against
    float64 autograd (through the regularizers)."""
    config = training_config
    backward = gpu.load_backward(config.manifest_path, device=device)
    inputs = kernel_configs.make_inputs(config, seed=config.N, device=device)
    dtype = kernel_configs.torch_dtype(config.dtype)
    generator = torch.Generator(device=device).manual_seed(config.N + 1)
    dy = torch.randn(config.B, config.H, config.L, generator=generator, device=device).to(dtype)
    names = config.input_names
    outputs = [torch.full_like(inputs[name], float("nan")) for name in names]
    backward.launch([inputs[name] for name in names] + [dy], outputs=outputs)
    expected = kernel_configs.reference_gradients(config, inputs, dy)
    for name, got, e in zip(names, outputs, expected):
        assert torch.isfinite(got).all(), f"d{name} has unwritten or non-finite values"
        err = _error(got, e)
        assert err <= config.tolerance, f"d{name}: relative error {err:.3e}"


@pytest.mark.parametrize("dy_scale", [1.0, 2.0 ** -30], ids=["dy", "tiny-dy"])
@pytest.mark.parametrize("case", F32_TRAINING_CASES, ids=_case_id)
def test_f32_backward_on_gpu(case, dy_scale, device, kernel_cache):
    """f32 sequences (Split precision, the kernels' own stages where the
    decomposition chose a factor they do not run; an f32 workspace in the
    three-pass form): forward and backward of the drop-in within 1e-5 of
    float64, with dy at 2^-30 as well. (Before each block was scaled into
    f16's range, the three-pass form measured 1.4e-5 at N = 64K, its low
    f16 halves subnormal for K's small values.)"""
    tolerance = 1e-5
    u, k, pre, post, dy = _inputs(case, torch.float32, device)
    # tiny-dy: a mean loss's gradient, far below f16's range (the kernels
    # scale each block into it).
    errors = _compiled_step_errors(case, torch.float32, u, k, pre, post, dy * dy_scale)
    print(case, errors)
    for name, err in errors.items():
        assert err <= tolerance, f"{name}: relative error {err:.3e}"
