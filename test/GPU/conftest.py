"""GPU tests: they run the compiled kernels (scripts/build_gpu_kernels.py)
and the runtimes on a CUDA GPU. Without a GPU (PyTorch sees none) every test
here is skipped; without compiled kernels (FFTCONV_GPU_KERNELS, default
build/gpu-kernels) the tests of the kernels are skipped and those of the
runtimes on the hand-written PTX of test/GPU/data still run."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))

from fftconv import kernel_configs  # noqa: E402


def _gpu_skip_reason():
    try:
        import torch
    except ImportError as error:
        return f"PyTorch is not installed ({error})"
    if not torch.cuda.is_available():
        return "no CUDA GPU (torch.cuda.is_available() is False)"
    return None


GPU_SKIP_REASON = _gpu_skip_reason()
KERNEL_DIR = kernel_configs.kernel_dir()
CONFIGS = kernel_configs.find_configs(KERNEL_DIR)
KERNELS_SKIP_REASON = (
    None
    if CONFIGS
    else f"no compiled kernels in {KERNEL_DIR} (build them with "
    "`python3 scripts/build_gpu_kernels.py --out build/gpu-kernels`, or set FFTCONV_GPU_KERNELS)"
)


def pytest_report_header(config):
    return [
        f"fftconv GPU tests: kernels from {KERNEL_DIR} ({len(CONFIGS)} configurations)",
        f"fftconv GPU tests: {GPU_SKIP_REASON or 'a CUDA GPU is available'}",
    ]


def pytest_generate_tests(metafunc):
    # One test per compiled configuration; a single placeholder (skipped
    # below) when there is none, so that the skip reason is reported.
    if "config" in metafunc.fixturenames:
        if CONFIGS:
            metafunc.parametrize("config", CONFIGS, ids=[c.name for c in CONFIGS])
        else:
            metafunc.parametrize("config", [None], ids=["no-kernels"])


def pytest_collection_modifyitems(config, items):
    for item in items:
        if not str(item.fspath).startswith(HERE + os.sep):
            continue
        if GPU_SKIP_REASON:
            item.add_marker(pytest.mark.skip(reason=GPU_SKIP_REASON))
        elif "config" in getattr(item, "fixturenames", ()) and KERNELS_SKIP_REASON:
            item.add_marker(pytest.mark.skip(reason=KERNELS_SKIP_REASON))


@pytest.fixture(scope="session")
def device():
    import torch

    return torch.device("cuda", torch.cuda.current_device())


@pytest.fixture
def seed(request):
    # A distinct, reproducible seed per test.
    return sum(ord(c) * (i + 1) for i, c in enumerate(request.node.nodeid)) % (2**31)

