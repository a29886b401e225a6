"""Execute fftconv/butterfly programs on the CPU, in this process.

A program is a func.func on tensors (MLIR text, or a fftconv.Module built
by fftconv.graph.Graph). It goes through the given passes and the
project's `fftconv-to-cpu` pipeline with the bindings' PassManager, is
JIT-compiled by MLIR's ExecutionEngine, and is called through its C
interface (`llvm.emit_c_interface`): numpy arrays go in as memref
descriptors (ctypes structs pointing at the arrays' own memory), results
come back as memrefs the compiled code allocated, copied into numpy arrays
and freed. No subprocess, no constants in the IR, no printing.

    (y,) = cpu.run('''
      func.func @f(%u: tensor<2x4x64xf32>, %k: tensor<4x64xf32>) -> tensor<2x4x64xf32> {
        %y = fftconv.conv causal %u, %k : (tensor<2x4x64xf32>, tensor<4x64xf32>) -> tensor<2x4x64xf32>
        return %y : tensor<2x4x64xf32>
      }''', [u, k], passes=[cpu.butterfly_pipeline()])

Inputs are arguments, so the compiler cannot fold them: what runs is the
compiled code, not a compile-time evaluation (Graph.constant makes
compile-time constants). Element types follow the function's signature:
f32 as float32, f16 as float16, bf16 as uint16 bit patterns (float arrays
are rounded to bf16 to nearest even), complex<f32> as complex64.
"""

import ctypes
import os
import threading
import weakref

import numpy as np

from . import reference

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LLVM_ROOT = os.environ.get("FFTCONV_LLVM_ROOT", "/usr/lib/llvm-22")


class ExecutionError(RuntimeError):
    """Compiled code returned something its signature does not describe.
    (Compiling programs raises fftconv.MLIRError with located
    diagnostics.)"""


_CONTEXT = None
_CONTEXT_LOCK = threading.Lock()


def default_context():
    """The context this module (and Graph.mlir, run_cpu, native, compile)
    builds and compiles in; made once, as registering every dialect takes
    a while. (The bindings hold the GIL, so threads take turns in it.)"""
    global _CONTEXT
    with _CONTEXT_LOCK:
        if _CONTEXT is None:
            from . import Context

            _CONTEXT = Context()
    return _CONTEXT


def runtime_libraries():
    """Shared libraries the JIT loads for symbols compiled code may call
    (memrefCopy for strided copies, from MLIR's C runner utils)."""
    return [os.path.join(LLVM_ROOT, "lib", "libmlir_c_runner_utils.so")]


_async_runtime = None


def load_async_runtime():
    """Loads MLIR's async runtime (the thread pool of
    fftconv-to-cpu{threads} programs) into the process once, for the JIT to
    find its symbols there. Not as one of an engine's shared libraries: an
    engine that goes away destroys the runtime of those it loaded
    (__mlir_execution_engine_destroy), under every other engine's feet."""
    global _async_runtime
    if _async_runtime is None:
        path = os.path.join(LLVM_ROOT, "lib", "libmlir_async_runtime.so")
        _async_runtime = ctypes.CDLL(path, mode=os.RTLD_NOW | os.RTLD_GLOBAL)
    return _async_runtime


# fftconv-to-cpu for this process's ExecutionEngine: buffers come from the
# pool the engine binds the generic allocation functions to (large ones are
# kept between calls instead of being page-faulted in again by every call).
CPU_PIPELINE = "fftconv-to-cpu{pooled-allocator=1 threads=1}"


def pipeline(passes=(), cpu=True):
    """The textual pass pipeline of `passes` (pipeline elements, options in
    braces), then fftconv-to-cpu (CPU_PIPELINE) unless `cpu` is false."""
    return "builtin.module(" + ",".join(list(passes) + ([CPU_PIPELINE] if cpu else [])) + ")"


def _module(program, context, source_name="program.mlir"):
    from . import Module

    if isinstance(program, str):
        return Module.parse(context or default_context(), program, source_name)
    return program


def compile_text(program, passes):
    """The IR after running the pipeline elements `passes` on `program`
    (MLIR text or a Module, which is rewritten), printed: for inspecting
    what the compiler did."""
    from . import PassManager

    module = _module(program, None)
    PassManager(module.context, pipeline(passes, cpu=False)).run(module)
    return str(module)


# -- memref descriptors ----------------------------------------------------------

# The numpy dtype a memref of each element type holds.
NUMPY_OF = {"f32": np.float32, "f16": np.float16, "bf16": np.uint16, "complex<f32>": np.complex64}

_DESCRIPTORS = {}


def descriptor_type(rank):
    """The ctypes struct of a ranked memref descriptor (allocated and
    aligned pointers, offset, sizes, strides), as the LLVM lowering lays it
    out."""
    if rank not in _DESCRIPTORS:
        fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p), ("offset", ctypes.c_int64)]
        if rank:
            fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
        _DESCRIPTORS[rank] = type(f"MemRef{rank}D", (ctypes.Structure,), {"_fields_": fields})
    return _DESCRIPTORS[rank]


def descriptor(array):
    """A descriptor over a C-contiguous numpy array's own memory."""
    desc = descriptor_type(array.ndim)()
    pointer = array.ctypes.data_as(ctypes.c_void_p)
    desc.allocated = pointer
    desc.aligned = pointer
    desc.offset = 0
    for axis in range(array.ndim):
        desc.sizes[axis] = array.shape[axis]
        desc.strides[axis] = array.strides[axis] // array.itemsize
    return desc


def as_memref_array(array, shape, element):
    """`array` as the contiguous numpy array a memref<shape x element> views
    (bf16: uint16 bit patterns kept, float values rounded)."""
    array = np.asarray(array)
    if array.shape != tuple(shape):
        raise ValueError(f"has shape {array.shape}, expected {tuple(shape)}")
    bits = element == "bf16" and array.dtype == np.uint16
    kinds = "fc" if element.startswith("complex") else "f"
    if not bits and array.dtype.kind not in kinds:
        # An integer or complex array would be converted silently (and a
        # complex one lose its imaginary part): refuse it.
        expected = {"bf16": "a float array or uint16 bf16 bit patterns", "complex<f32>": "a float or complex array"}
        raise ValueError(f"has dtype {array.dtype}, expected {expected.get(element, 'a float array')} for {element}")
    if element == "bf16" and not bits:
        array = reference.bf16_bits(array)
    return np.ascontiguousarray(array, dtype=NUMPY_OF[element])


_FREE_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_free_function = None


def _free(address):
    """Releases a returned buffer: programs compiled with CPU_PIPELINE
    allocate through fftconvCPUFree's pool (fftconv-to-cpu{pooled-allocator})."""
    global _free_function
    if _free_function is None:
        from . import _fftconv

        _free_function = _FREE_TYPE(_fftconv.cpu_free_address())
    _free_function(address)


def _take(desc, shape, element, owners):
    """The memref `desc` returned (and owned: the deallocation pipeline
    clones what the function does not own) as a numpy array: over the
    buffer itself, freed when the last array over it goes, where it is
    contiguous (copying 32 MB of results cost as much as computing them);
    a copy otherwise. `owners` maps each allocation to the object that
    frees it (one buffer may be returned twice)."""
    dtype = np.dtype(NUMPY_OF[element])
    sizes = tuple(desc.sizes[i] for i in range(len(shape))) if shape else ()
    if sizes != tuple(shape):
        raise ExecutionError(f"a result of shape {sizes} where the signature says {tuple(shape)}")
    count = int(np.prod(shape, dtype=np.int64))
    start = desc.aligned + desc.offset * dtype.itemsize
    strides = tuple(desc.strides[i] * dtype.itemsize for i in range(len(shape))) if shape else ()
    span = int(_span(shape, strides, dtype.itemsize)) if count else 0
    buffer = (ctypes.c_char * (dtype.itemsize * span)).from_address(start)
    if desc.allocated not in owners:
        owners[desc.allocated] = buffer
        weakref.finalize(buffer, _free, desc.allocated)
    if count == 0:
        return np.empty(shape, dtype)
    view = np.lib.stride_tricks.as_strided(np.frombuffer(buffer, dtype=dtype), shape=shape, strides=strides)
    if span == count and view.flags.c_contiguous and owners[desc.allocated] is buffer:
        return view
    return np.array(view)


def _span(shape, strides, itemsize):
    """The number of elements between the first and last one of a view."""
    return 1 + sum((d - 1) * s for d, s in zip(shape, strides)) // itemsize


# -- executables -----------------------------------------------------------------


class Executable:
    """A func.func compiled for the CPU once: call it with one numpy array
    per argument; it returns one numpy array per result, in the memrefs'
    own dtypes (NUMPY_OF).

    `program` is MLIR text (a module or a single function) or a Module
    (rewritten in place); `function` names the function to call (default:
    the only one); `passes` run before fftconv-to-cpu; `opt_level` is
    LLVM's (0-3) for code called many times. Compile errors raise
    fftconv.MLIRError with the located diagnostics."""

    def __init__(self, program, function=None, passes=(), opt_level=2, context=None):
        from . import ExecutionEngine, PassManager

        module = _module(program, context)
        if function is None:
            names = module.functions
            if len(names) != 1:
                raise ValueError(f"name the function to run: the module defines {names}")
            function = names[0]
        arguments, results = module.function_type(function)
        for t in arguments + results:
            if t.shape is None or t.element not in NUMPY_OF:
                raise ValueError(f"@{function}: {t} is not a ranked tensor of f16, bf16, f32 or complex<f32>")
        self.function = function
        self.arguments = [(tuple(t.shape), t.element) for t in arguments]
        self.results = [(tuple(t.shape), t.element) for t in results]
        module.emit_c_interface(function)
        PassManager(module.context, pipeline(passes)).run(module)
        load_async_runtime()
        self._engine = ExecutionEngine(module, opt_level, runtime_libraries())
        address = self._engine.lookup("_mlir_ciface_" + function)
        # The C interface: a pointer to the results first (one descriptor,
        # or a struct of them), then a pointer per argument's descriptor.
        count = len(self.arguments) + (1 if self.results else 0)
        self._entry = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * count))(address)
        if len(self.results) == 1:
            self._result_type = descriptor_type(len(self.results[0][0]))
        elif self.results:
            fields = [(f"r{i}", descriptor_type(len(shape))) for i, (shape, _) in enumerate(self.results)]
            self._result_type = type("Results", (ctypes.Structure,), {"_fields_": fields})

    def __call__(self, *arrays):
        if len(arrays) != len(self.arguments):
            raise ValueError(f"@{self.function}: expected {len(self.arguments)} inputs, got {len(arrays)}")
        keep = []
        for index, (array, (shape, element)) in enumerate(zip(arrays, self.arguments)):
            try:
                keep.append(as_memref_array(array, shape, element))
            except ValueError as error:
                raise ValueError(f"@{self.function}: input {index} {error}") from None
        descriptors = [descriptor(a) for a in keep]
        pointers = [ctypes.addressof(d) for d in descriptors]
        if not self.results:
            self._entry(*pointers)
            return []
        out = self._result_type()
        self._entry(ctypes.addressof(out), *pointers)
        parts = [out] if len(self.results) == 1 else [getattr(out, f"r{i}") for i in range(len(self.results))]
        owners = {}
        return [_take(desc, shape, element, owners) for desc, (shape, element) in zip(parts, self.results)]


def as_float(array, element):
    """A result as float32 (f16 and bf16 widened exactly) or complex64."""
    if element == "bf16":
        return (array.astype(np.uint32) << 16).view(np.float32)
    if element == "f16":
        return array.astype(np.float32)
    return array


def run(program, inputs, passes=(), function=None, opt_level=0):
    """Compiles `program` (see Executable) and runs it once on `inputs` (one
    array per argument); returns the results as float32 / complex64 numpy
    arrays. Code run once need not be fast: with LLVM's O2 pipeline
    test_decomposition.py took 36 s against 9 s at O0, hence O0 here."""
    executable = Executable(program, function=function, passes=passes, opt_level=opt_level)
    return [as_float(y, element) for y, (_, element) in zip(executable(*inputs), executable.results)]


class GraphProgram:
    """A Graph with its input arrays: what conv_program returns."""

    def __init__(self, graph, arrays):
        self.graph, self.arrays = graph, arrays

    def module(self, context=None):
        return self.graph.module(context or default_context())

    def run(self, extra_passes=()):
        """Compiles (extra_passes, fftconv-to-cpu) and runs the program;
        returns the outputs as float32 / complex64 numpy arrays."""
        return run(self.module(), [self.arrays[v.name] for v in self.graph.inputs],
                   passes=extra_passes, function=self.graph.name)


def conv_program(dtype, mode, u, k, pregate=None, postgate=None, skip=None, constant_kernel=False):
    """A program computing fftconv.conv on the given arrays (u, gates in
    `dtype`; k and skip in f32); the kernel is a compile-time constant with
    `constant_kernel`."""
    from .graph import Graph

    g = Graph("program")
    arrays = {"u": u}
    iu = g.input("u", np.shape(u), dtype)
    if constant_kernel:
        ik = g.constant(k, "f32")
    else:
        ik = g.input("k", np.shape(k), "f32")
        arrays["k"] = k
    extra = {}
    for name, value, element in (("pregate", pregate, dtype), ("postgate", postgate, dtype), ("skip", skip, "f32")):
        if value is not None:
            extra[name] = g.input(name, np.shape(value), element)
            arrays[name] = value
    g.output(g.conv(iu, ik, causal=mode == "causal", **extra))
    return GraphProgram(g, arrays)


def cost_table(order=0, complex_bytes=8, chip="sm_90", max_log2=22):
    """The cost model's choices (the table fftconv-cost-table prints, from
    the C API's fftconvPrintCostTable) as {N: row dict}; a row's "fused
    factors" is "" where no factorization of `order` fits."""
    from . import _fftconv

    text = _fftconv.cost_table(chip=chip, complex_bytes=complex_bytes, max_log2=max_log2, order=order)
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    table = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        row = dict(zip(header, cells))
        if row.get("outer passes") == "none":
            row["fused factors"] = ""
        table[int(row["FFT size N"])] = row
    return table


def butterfly_pipeline(order="auto", chip="cpu", smem_per_block=0):
    """The pass-pipeline element that decomposes and fuses convolutions."""
    return f"fftconv-to-butterfly{{order={order} chip={chip} smem-per-block={smem_per_block}}}"
