"""Integration tests: programs executed on the CPU (fftconv-opt's
fftconv-to-cpu pipeline + mlir-runner) against the float64 numpy oracle."""

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
