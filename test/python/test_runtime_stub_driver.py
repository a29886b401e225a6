"""The runtime's load and launch paths without a GPU: libFFTConvRuntime.so
over a stand-in CUDA driver (stub_libcuda.c, compiled here and put first on
LD_LIBRARY_PATH), through the Python binding (with a stand-in torch whose
tensors are addresses) and through the C ABI. The checks (in
stub_driver_session.py, one process per scenario, since the driver is opened
once per process) are on what the runtime asks the driver to do: which
kernels launch, with which pointers, after which refusals. test/GPU runs the
same paths on a real device."""

import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))

from fftconv import runtime  # noqa: E402


@pytest.fixture(scope="module")
def stub_driver(tmp_path_factory):
    compiler = shutil.which("cc") or shutil.which("clang-22") or shutil.which("gcc")
    assert compiler, "no C compiler for the stub driver"
    folder = tmp_path_factory.mktemp("stub-driver")
    library = folder / "libcuda.so.1"
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-O1", "-o", str(library), os.path.join(HERE, "Inputs", "stub_libcuda.c")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return folder


@pytest.mark.parametrize("scenario", ["binding_launches", "binding_load_errors", "c_abi"])
def test_runtime_over_stub_driver(stub_driver, scenario, tmp_path):
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = str(stub_driver) + os.pathsep + env.get("LD_LIBRARY_PATH", "")
    env["FFTCONV_STUB_LOG"] = str(tmp_path / "driver.log")
    env.pop("FFTCONV_RUNTIME_SYNC", None)
    result = subprocess.run(
        [sys.executable, os.path.join(HERE, "stub_driver_session.py"), scenario, runtime.library_path()],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stdout + result.stderr
