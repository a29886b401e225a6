"""Imports the fftconv package installed under the prefix argv[1] (found
through PYTHONPATH alone) and runs a small convolution on the CPU."""

import os
import re
import sys

import numpy as np

import fftconv
from fftconv import reference
from fftconv.graph import Graph

prefix = os.path.realpath(sys.argv[1])
for module in (fftconv, fftconv._fftconv):
    where = os.path.realpath(module.__file__)
    assert where.startswith(prefix + os.sep), f"{module.__name__} comes from {where}, not {prefix}"
print("package:", os.path.relpath(os.path.dirname(os.path.realpath(fftconv.__file__)), prefix))
# The version is the build's, as the CMake package's version file has it.
with open(os.path.join(prefix, "lib", "cmake", "fftconv", "FFTConvConfigVersion.cmake")) as f:
    cmake_version = re.search(r'set\(PACKAGE_VERSION "([^"]+)"\)', f.read()).group(1)
assert fftconv.__version__ == cmake_version, (fftconv.__version__, cmake_version)
print(f"version: {fftconv.__version__}, the CMake package's")
# The libraries the extension loaded: the package's own copies and
# Debian's libMLIR.so (no LD_LIBRARY_PATH, no build tree).
with open("/proc/self/maps") as maps:
    loaded = sorted({line.split()[-1] for line in maps if "libFFTConvCAPI" in line or "libMLIR.so" in line})
for path in loaded:
    print("loaded:", os.path.relpath(path, prefix) if path.startswith(prefix) else path)

fftconv.Context()
g = Graph("tiny")
u = g.input("u", (2, 4, 100), "f32")
k = g.input("k", (4, 100), "f32")
g.output(g.conv(u, k))
rng = np.random.default_rng(0)
arrays = {"u": rng.standard_normal((2, 4, 100)).astype(np.float32),
          "k": rng.standard_normal((4, 100)).astype(np.float32)}
(y,) = g.run_cpu(arrays)
error = reference.relative_error(y, reference.conv(arrays["u"], arrays["k"]))
print(f"cpu: shape {y.shape}, relative error {'below 1e-5' if error < 1e-5 else error}")
