"""The runtime (lib/Runtime) on the compiled kernels: fftconv-run checks and
times each configuration, and the plain C API (the runtime's own workspaces,
device pointers) computes the same bits as the Python binding (PyTorch's
tensors and workspaces). Needs the runtime's build (FFTCONV_RUNTIME_DIR,
FFTCONV_BUILD_DIR, build/ or build/runtime; scripts/gpu_check.sh finds or
builds it)."""

import ctypes
import os
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

from fftconv import kernel_configs, runtime  # noqa: E402
from fftconv.kernel_configs import runtime_build_dir  # noqa: E402
from fftconv.runtime import Program  # noqa: E402


def test_fftconv_run(config):
    tool = os.path.join(runtime_build_dir(), "bin", "fftconv-run")
    if not os.path.exists(tool):
        pytest.skip(f"{tool} not built")
    result = subprocess.run(
        [tool, config.manifest_path, "--iterations", "20", "--warmup", "3"], capture_output=True, text=True, timeout=600
    )
    print("\n" + result.stdout)
    assert result.returncode == 0, result.stderr
    assert "two launches bit-identical" in result.stdout


def test_c_api_matches_binding(config, device):
    lib = ctypes.CDLL(runtime.library_path())
    lib.fftconvRuntimeLoad.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
    lib.fftconvRuntimeLoad.restype = ctypes.c_void_p
    lib.fftconvRuntimeLaunch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64), ctypes.c_size_t, ctypes.c_void_p]
    lib.fftconvRuntimeDestroy.argtypes = [ctypes.c_void_p]
    lib.fftconvRuntimeLastError.restype = ctypes.c_char_p

    python_program = Program.from_dir(config.path)
    inputs = kernel_configs.make_inputs(config, 21, device)
    expected = python_program.launch(inputs, outputs=kernel_configs.poisoned_output(config, device))

    program = lib.fftconvRuntimeLoad(config.manifest_path.encode(), None, device.index)
    assert program, lib.fftconvRuntimeLastError()
    try:
        out = kernel_configs.poisoned_output(config, device)
        tensors = [inputs[a.name] for a in python_program.inputs] + [out]
        buffers = (ctypes.c_uint64 * len(tensors))(*[t.data_ptr() for t in tensors])
        stream = torch.cuda.current_stream().cuda_stream
        assert lib.fftconvRuntimeLaunch(program, buffers, len(tensors), stream) == 0, lib.fftconvRuntimeLastError()
        torch.cuda.synchronize()
        assert torch.equal(out, expected)
        # The output in place of the first input: refused, nothing launched.
        tensors[-1] = tensors[0]
        buffers = (ctypes.c_uint64 * len(tensors))(*[t.data_ptr() for t in tensors])
        assert lib.fftconvRuntimeLaunch(program, buffers, len(tensors), stream) != 0
        assert b"shares memory" in lib.fftconvRuntimeLastError()
    finally:
        lib.fftconvRuntimeDestroy(program)
