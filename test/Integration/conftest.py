"""Integration tests: programs executed on the CPU (the bindings run
fftconv-to-cpu, MLIR's ExecutionEngine runs the code in this process)
against the float64 numpy oracle. Each test holds its program as the text
of one function; fftconv.cpu.run takes it with numpy arrays, one per
argument."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))


@pytest.fixture
def rng(request):
    # A distinct, reproducible stream per test: never zeros or ones.
    seed = abs(hash(request.node.nodeid)) % (2**32)
    return np.random.default_rng(seed)

