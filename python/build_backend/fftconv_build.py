"""The PEP 517 build backend of fftconv-mlir (pyproject.toml names it).

    /usr/bin/python3 -m pip install --no-build-isolation [--target DIR] .

build_wheel builds the Python extension and the two libraries it needs
(libFFTConvCAPI.so, libFFTConvRuntime.so) in the project's CMake build,
incrementally, installs CMake's `python` component (python/CMakeLists.txt:
the package with the extension and both libraries beside it) into a
scratch prefix, and packs that package into a wheel. The wheel is built
with Debian's `wheel` module; its metadata comes from pyproject.toml's
[project] table, its version from the build (CMake's project(VERSION), in
the generated fftconv/_version.py), so nothing is written down twice.

Which build: $FFTCONV_BUILD_DIR if set (it must be configured already),
else the repository's build/, made by scripts/build.sh if it does not exist
yet (the one place that knows how the project is configured: clang-22,
Ninja, Release). Reusing the build is what makes a reinstall take seconds
rather than the whole build.

No sdist and no editable installs: the source tree with `build/` on its
path (README.md) is the editable form.
"""

import glob
import importlib.machinery
import os
import re
import runpy
import subprocess
import sys
import sysconfig
import tempfile
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(command, **kwargs):
    # pip shows a backend's output on failure (and with -v); CMake's goes to
    # stderr so that it is never taken for a hook's result.
    print("fftconv_build:", " ".join(command), file=sys.stderr, flush=True)
    subprocess.run(command, check=True, stdout=sys.stderr, **kwargs)


def _build_dir():
    explicit = os.environ.get("FFTCONV_BUILD_DIR")
    build = os.path.abspath(explicit) if explicit else os.path.join(ROOT, "build")
    if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
        if explicit:
            raise RuntimeError(
                f"FFTCONV_BUILD_DIR={explicit} is not a configured build of fftconv-mlir; "
                "configure it (scripts/build.sh shows how) or unset the variable"
            )
        _run(["bash", os.path.join(ROOT, "scripts", "build.sh")], cwd=ROOT)
    return build


def _stage_package(build, prefix):
    """Builds what the package needs and installs it under prefix; returns
    the installed package's directory."""
    _run(["cmake", "--build", build, "--target", "FFTConvPython", "FFTConvRuntime"])
    _run(["cmake", "--install", build, "--component", "python", "--prefix", prefix])
    found = glob.glob(os.path.join(prefix, "**", "fftconv", "__init__.py"), recursive=True)
    if len(found) != 1:
        raise RuntimeError(f"the python component installed {len(found)} fftconv packages under {prefix}")
    return os.path.dirname(found[0])


def _check_interpreter(package):
    # The extension is built for the interpreter CMake found
    # (Python3_EXECUTABLE, /usr/bin/python3); a wheel tagged for this one
    # must hold an extension this one can import.
    extensions = glob.glob(os.path.join(package, "_fftconv.*"))
    suffixes = importlib.machinery.EXTENSION_SUFFIXES
    if not any(e.endswith(s) for e in extensions for s in suffixes):
        raise RuntimeError(
            f"the build's extension {[os.path.basename(e) for e in extensions]} is not for "
            f"{sys.executable} (which imports {suffixes}); run pip with the interpreter the "
            "build uses (/usr/bin/python3)"
        )


def _wheel_tag():
    # CPython's extension ABI and this machine's platform; not manylinux:
    # the extension needs Debian's libMLIR.so 22 where Debian keeps it.
    python = f"cp{sys.version_info.major}{sys.version_info.minor}"
    platform = re.sub(r"[-.]", "_", sysconfig.get_platform())
    return f"{python}-{python}{sys.abiflags}-{platform}"


def _metadata(project, version):
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {version}",
        f"Summary: {project.get('description', '')}",
    ]
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {d}" for d in project.get("dependencies", [])]
    for extra, requirements in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {r}; extra == "{extra}"' for r in requirements]
    return "\n".join(lines) + "\n"


def get_requires_for_build_wheel(config_settings=None):
    return []  # "wheel" of [build-system] requires is all


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    from wheel.wheelfile import WheelFile  # Debian's python3-wheel

    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    build = _build_dir()
    with tempfile.TemporaryDirectory(prefix="fftconv-wheel-") as prefix:
        package = _stage_package(build, prefix)
        _check_interpreter(package)
        version = runpy.run_path(os.path.join(package, "_version.py"))["__version__"]
        name = re.sub(r"[-_.]+", "_", project["name"]).lower()
        tag = _wheel_tag()
        wheel_name = f"{name}-{version}-{tag}.whl"
        dist_info = f"{name}-{version}.dist-info"
        with WheelFile(os.path.join(wheel_directory, wheel_name), "w") as wheel:
            for directory, subdirs, files in os.walk(package):
                subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
                for file in sorted(files):
                    path = os.path.join(directory, file)
                    wheel.write(path, os.path.join("fftconv", os.path.relpath(path, package)))
            wheel.writestr(f"{dist_info}/METADATA", _metadata(project, version))
            wheel.writestr(
                f"{dist_info}/WHEEL",
                "Wheel-Version: 1.0\n"
                "Generator: fftconv_build (python/build_backend)\n"
                "Root-Is-Purelib: false\n"
                f"Tag: {tag}\n",
            )
            wheel.writestr(f"{dist_info}/top_level.txt", "fftconv\n")
            # RECORD is written by WheelFile on closing.
    return wheel_name
