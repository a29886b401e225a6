"""Compile a graph once for the CPU and call it on numpy arrays, many times.

The graph is built through the bindings, lowered (fftconv-to-butterfly,
fftconv-to-cpu) and JIT-compiled in this process by MLIR's
ExecutionEngine (fftconv.cpu.Executable); the compiled function is cached
per configuration (the graph's signature and the options), so every
CompiledFunction of one configuration shares one compilation. Calls pass
numpy arrays as memref descriptors through the C interface.
"""

from . import cpu

_CACHE = {}


class CompiledFunction:
    """A graph compiled to native code: call it with numpy arrays (one per
    graph input, in order, in the memrefs' dtypes: float32, float16, bf16 as
    uint16 bits); it returns the single output as a numpy array of its
    memref's dtype."""

    def __init__(self, graph, decompose=True, order="auto"):
        if len(graph.outputs) != 1:
            raise ValueError("a compiled function returns exactly one output")
        key = (graph.signature(), bool(decompose), str(order))
        if key not in _CACHE:
            passes = [cpu.butterfly_pipeline(order=order)] if decompose else []
            module = graph.module(cpu.default_context())
            _CACHE[key] = cpu.Executable(module, function=graph.name, passes=passes, opt_level=2)
        self._executable = _CACHE[key]
        self.inputs = self._executable.arguments
        self.output = self._executable.results[0]

    def __call__(self, *arrays):
        (out,) = self._executable(*arrays)
        return out


class CompiledBackward:
    """The gradient function of a graph (fftconv-derive-backward), compiled
    to native code once per configuration like CompiledFunction: call it
    with the forward's inputs followed by one gradient per output; it
    returns one gradient per input (or per input named in `wrt`, in that
    order: the others are not computed), each in its input's memref
    dtype."""

    def __init__(self, graph, decompose=True, order="auto", wrt=None):
        wrt = tuple(wrt) if wrt else None
        key = ("backward", graph.signature(), bool(decompose), str(order), wrt)
        if key not in _CACHE:
            passes = [cpu.butterfly_pipeline(order=order)] if decompose else []
            module = graph.backward_module(cpu.default_context(), keep_forward=False, wrt=wrt)
            _CACHE[key] = cpu.Executable(module, function=graph.name + "_backward", passes=passes, opt_level=2)
        self._executable = _CACHE[key]
        self.inputs = self._executable.arguments
        self.outputs = self._executable.results

    def __call__(self, *arrays):
        return self._executable(*arrays)
