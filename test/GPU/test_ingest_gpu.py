"""A Hyena operator ingested whole (examples/hyena_operator.py,
`ingest(..., partial=True)`) on CUDA tensors: its long convolutions
(multi-head b ho v z l, D residual, the gates, the bidirectional filter)
run as GPU kernels through fftconv.torch.CompiledGraph, the rest as
PyTorch. Output and every gradient (input, projections, the implicit
filters' MLPs through dk and d k_rev) against the same layer in float64 on
the CPU. Kernels come from the module cache that
scripts/build_gpu_kernels.py fills (INGEST_CASES), or are compiled where
the build exists."""

import os
import sys

import pytest

torch = pytest.importorskip("torch")
REPO = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, os.path.join(REPO, "scripts"))

from build_gpu_kernels import INGEST_CASES, ingest_case  # noqa: E402
from fftconv import kernel_configs  # noqa: E402
from fftconv.ingest import ingest  # noqa: E402


@pytest.fixture(autouse=True)
def kernel_cache(monkeypatch):
    cache = os.path.join(kernel_configs.kernel_dir(), "module-cache")
    if "FFTCONV_KERNEL_CACHE" not in os.environ and os.path.isdir(cache):
        monkeypatch.setenv("FFTCONV_KERNEL_CACHE", cache)


def relative_error(x, y):
    return float((x.detach().double().cpu() - y.detach()).norm() / y.detach().norm())


@pytest.mark.parametrize("case", INGEST_CASES,
                         ids=lambda c: f"d{c[0]}-L{c[1]}-order{c[2]}-heads{c[3]}-blocks{c[6]}"
                                       f"{'-bidirectional' if c[5] else ''}")
def test_hyena_operator_on_gpu(case):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    layer, u = ingest_case(case)
    reference = type(layer)(d_model=case[0], l_max=case[1], order=case[2], num_heads=case[3],
                            bidirectional=case[5], num_blocks=case[6]).double()
    reference.load_state_dict({name: t.double() for name, t in layer.state_dict().items()})
    u64 = u.double().requires_grad_()
    y64 = reference(u64)
    dy = torch.randn_like(y64)
    y64.backward(dy)

    layer = layer.cuda()
    result = ingest(layer, (u.cuda(),), partial=True)
    assert len(result.convolutions) == case[2] - 1
    uc = u.cuda().requires_grad_()
    y = result.compiled_module(uc)
    assert y.is_cuda
    error = relative_error(y, y64)
    y.backward(dy.float().cuda())
    errors = {"y": error, "u": relative_error(uc.grad, u64.grad)}
    expected = dict(reference.named_parameters())
    for name, parameter in layer.named_parameters():
        if expected[name].grad is not None:
            errors[name] = relative_error(parameter.grad, expected[name].grad)
    print(f"Hyena operator {case} on the GPU: worst relative error {max(errors.values()):.2e} "
          f"({max(errors, key=errors.get)})")
    assert max(errors.values()) < 2e-4, errors
