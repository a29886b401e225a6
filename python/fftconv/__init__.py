"""fftconv-mlir: a compiler for long convolutions.

    from fftconv import Context, Module, PassManager, MLIRError, ExecutionEngine

Submodules:
  reference  float64 numpy oracle for every op of both dialects
  cpu        run programs on the CPU in this process (fftconv-to-cpu, MLIR's
             ExecutionEngine, numpy arrays in and out)
  graph      build programs of fftconv ops (Graph)
  gpu        compile to PTX plus a launch manifest (also fftconv.compile)
  runtime    load and launch compiled programs on a GPU: the binding of the
             C++ runtime libFFTConvRuntime.so (no MLIR needed)
  ingest     turn PyTorch FFT convolutions into graphs
  torch      FFTConv, a drop-in for FlashFFTConv's module

The compiled extension (`_fftconv`, over the C API) is built into
build/python_packages/fftconv; set FFTCONV_BUILD_DIR for another build
directory.
"""

import os as _os

_build = _os.environ.get(
    "FFTCONV_BUILD_DIR",
    _os.path.join(_os.path.dirname(_os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))), "build"),
)
__path__.append(_os.path.join(_build, "python_packages", "fftconv"))

try:
    from ._fftconv import (  # noqa: F401
        Context,
        ExecutionEngine,
        Function,
        Location,
        MLIRError,
        Module,
        PassManager,
        Type,
        compile_options_default,
    )
except ImportError as _error:  # pure-Python parts stay usable without a build
    _import_error = _error

    def __getattr__(name):
        if name in ("Context", "ExecutionEngine", "Function", "Location", "MLIRError", "Module", "PassManager", "Type"):
            raise ImportError(
                f"fftconv.{name} needs the compiled extension; build the project "
                f"(bash scripts/setup.sh): {_import_error}"
            )
        raise AttributeError(name)


def compile(program, target="sm_90", order="auto", training=False):
    """PTX plus the launch manifest of a Graph or MLIR text (see fftconv.gpu;
    training=True raises NotImplementedError until the GPU backward exists)."""
    from .gpu import compile as _compile

    return _compile(program, target=target, order=order, training=training)
