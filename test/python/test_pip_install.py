"""`pip install --no-build-isolation .` (pyproject.toml's in-tree backend,
python/build_backend) gives a package that imports, with its extension, from
outside the source tree, and whose version is the build's.

The backend reuses the build the tests run on (the repository's build/, or
FFTCONV_BUILD_DIR), so this takes seconds: the wheel holds what that build's
`python` install component installs. --target because Debian refuses
installs into its interpreter (PEP 668); --no-deps --no-index because the
dependencies (numpy) are Debian's, and nothing is downloaded.
"""

import os
import subprocess
import sys
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PYTHON = "/usr/bin/python3"


def _project_version():
    with open(os.path.join(ROOT, "VERSION")) as f:
        return f.read().strip()


def _have(module):
    return subprocess.run([PYTHON, "-c", f"import {module}"], capture_output=True).returncode == 0


@pytest.mark.skipif(not (_have("pip") and _have("wheel")), reason="needs python3-pip and python3-wheel")
def test_pip_install_target(tmp_path):
    target = tmp_path / "site"
    start = time.monotonic()
    result = subprocess.run(
        [PYTHON, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--no-index",
         "--no-cache-dir", "--disable-pip-version-check", "--target", str(target), ROOT],
        capture_output=True, text=True, cwd=ROOT)
    elapsed = time.monotonic() - start
    assert result.returncode == 0, result.stdout + result.stderr
    print(f"pip install took {elapsed:.1f} s")

    package = target / "fftconv"
    names = sorted(os.listdir(package))
    assert "_version.py" in names and "graph.py" in names
    assert any(n.startswith("_fftconv.") and n.endswith(".so") for n in names), names
    assert any(n.startswith("libFFTConvCAPI.so") for n in names), names
    assert "libFFTConvRuntime.so" in names, names
    dist_info = [n for n in os.listdir(target) if n.endswith(".dist-info")]
    assert dist_info == [f"fftconv_mlir-{_project_version()}.dist-info"]

    # Outside the tree, with neither the build nor the sources on any path.
    env = {k: v for k, v in os.environ.items() if k not in ("FFTCONV_BUILD_DIR", "FFTCONV_RUNTIME_DIR", "LD_LIBRARY_PATH")}
    env["PYTHONPATH"] = str(target)
    probe = ("import fftconv, fftconv._fftconv as e, fftconv.runtime as r; fftconv.Context(); "
             "print(fftconv.__version__); print(fftconv.__file__); print(e.__file__); print(r.library_path())")
    out = subprocess.run([PYTHON, "-c", probe], capture_output=True, text=True, cwd=str(tmp_path), env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    version, init, extension, runtime = out.stdout.split()
    assert version == _project_version()
    for path in (init, extension, runtime):
        assert os.path.realpath(path).startswith(os.path.realpath(package) + os.sep), path
