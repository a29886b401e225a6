"""Compile a graph once into a native CPU library and call it on numpy
arrays, many times.

fftconv-opt lowers the program (fftconv-to-butterfly, fftconv-to-cpu) with
the C interface of its function, mlir-translate turns it into LLVM IR and
clang-22 into a shared object, cached by the program's text; calls pass
numpy arrays as MLIR memref descriptors through ctypes.
"""

import ctypes
import hashlib
import os
import subprocess
import tempfile

import numpy as np

from . import cpu

CACHE_DIR = os.environ.get("FFTCONV_CACHE_DIR", os.path.join(tempfile.gettempdir(), "fftconv-cache"))

_NUMPY_OF = {"f32": np.float32, "f16": np.float16, "bf16": np.uint16, "complex<f32>": np.complex64}


def _descriptor_type(rank):
    """The ctypes struct of an MLIR memref descriptor of `rank`."""
    fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p), ("offset", ctypes.c_int64)]
    if rank:
        fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
    return type(f"MemRef{rank}D", (ctypes.Structure,), {"_fields_": fields})


def _descriptor(array):
    desc = _descriptor_type(array.ndim)()
    pointer = array.ctypes.data_as(ctypes.c_void_p)
    desc.allocated = pointer
    desc.aligned = pointer
    desc.offset = 0
    for axis in range(array.ndim):
        desc.sizes[axis] = array.shape[axis]
        desc.strides[axis] = array.strides[axis] // array.itemsize
    return desc


def _tool(name):
    path = os.path.join(cpu.LLVM_ROOT, "bin", name)
    return path if os.path.exists(path) else name


def compile_library(text, function, passes):
    """The path of the shared object for MLIR `text` (which defines
    func.func @`function` with the llvm.emit_c_interface attribute) after
    `passes` and fftconv-to-cpu; built once per text."""
    key = hashlib.sha256((text + "|" + ",".join(passes)).encode()).hexdigest()[:24]
    os.makedirs(CACHE_DIR, exist_ok=True)
    library = os.path.join(CACHE_DIR, f"{function}-{key}.so")
    if os.path.exists(library):
        return library
    with tempfile.TemporaryDirectory() as tmp:
        source, lowered, ir = (os.path.join(tmp, n) for n in ("in.mlir", "out.mlir", "out.ll"))
        with open(source, "w") as f:
            f.write(text)
        pipeline = ",".join(list(passes) + ["fftconv-to-cpu"])
        steps = [
            [cpu.fftconv_opt_path(), source, "-o", lowered, f"--pass-pipeline=builtin.module({pipeline})"],
            [_tool("mlir-translate"), "--mlir-to-llvmir", lowered, "-o", ir],
            ["clang-22", "-O2", "-shared", "-fPIC", ir, "-o", library + ".tmp",
             os.path.join(cpu.LLVM_ROOT, "lib", "libmlir_c_runner_utils.so"),
             "-Wl,-rpath," + os.path.join(cpu.LLVM_ROOT, "lib"), "-lm"],
        ]
        for step in steps:
            proc = subprocess.run(step, capture_output=True, text=True, timeout=900)
            if proc.returncode != 0:
                raise cpu.ExecutionError(f"{os.path.basename(step[0])} failed:\n{proc.stderr}")
    os.replace(library + ".tmp", library)
    return library


class CompiledFunction:
    """A graph compiled to native code: call it with numpy arrays (one per
    graph input, in order); it returns the single output as a numpy array."""

    def __init__(self, graph, decompose=True, order="auto"):
        if len(graph.outputs) != 1:
            raise ValueError("a compiled function returns exactly one output")
        self.inputs = [(v.shape, v.element) for v in graph.inputs]
        self.output = graph.outputs[0]
        text = graph.mlir().replace(f"func.func @{graph.name}(", f"func.func @{graph.name}(", 1)
        # The C interface gives a stable calling convention for memrefs.
        head, rest = text.split(") -> (", 1)
        results, body = rest.split(") {", 1)
        text = f"{head}) -> ({results}) attributes {{llvm.emit_c_interface}} {{{body}"
        passes = [cpu.butterfly_pipeline(order=order)] if decompose else []
        self.library_path = compile_library(text, graph.name, passes)
        self._library = ctypes.CDLL(self.library_path)
        self._entry = getattr(self._library, f"_mlir_ciface_{graph.name}")
        self._entry.restype = None
        self._free = ctypes.CDLL(None).free

    def __call__(self, *arrays):
        if len(arrays) != len(self.inputs):
            raise ValueError(f"expected {len(self.inputs)} arrays, got {len(arrays)}")
        keep = []
        for array, (shape, element) in zip(arrays, self.inputs):
            array = np.ascontiguousarray(array, dtype=_NUMPY_OF[element])
            if array.shape != tuple(shape):
                raise ValueError(f"expected an array of shape {tuple(shape)}, got {array.shape}")
            keep.append(array)
        descriptors = [_descriptor(a) for a in keep]
        result = _descriptor_type(len(self.output.shape))()
        self._entry(ctypes.byref(result), *[ctypes.byref(d) for d in descriptors])
        count = int(np.prod(self.output.shape))
        dtype = _NUMPY_OF[self.output.element]
        buffer = (ctypes.c_char * (count * np.dtype(dtype).itemsize)).from_address(
            result.aligned + result.offset * np.dtype(dtype).itemsize)
        out = np.frombuffer(buffer, dtype=dtype).copy().reshape(self.output.shape)
        self._free(ctypes.c_void_p(result.allocated))
        return out
