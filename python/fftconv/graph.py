"""Build fftconv programs from Python.

    g = Graph("hyena")
    u = g.input("u", (2, 8, 1024), "f16")
    k = g.input("k", (8, 1024), "f32")
    x1, x2 = g.input("x1", (2, 8, 1024), "f16"), g.input("x2", (2, 8, 1024), "f16")
    d = g.input("d", (8,), "f32")
    g.output(g.conv(u, k, pregate=x1, postgate=x2, skip=d))
    module = g.module(fftconv.Context())  # built op by op through the C API
    print(g.mlir())                       # that module, printed
    (y,) = g.run_cpu({"u": ..., "k": ..., "x1": ..., "x2": ..., "d": ...})

A Graph is a plain record of its inputs, ops and outputs: building one
needs no MLIR (the GPU machine builds graphs for its kernel cache keys).
`module(context)` turns it into IR through the bindings' op builders (the
C API's fftconv*Create), and the verifier is the judge of every rule: a
broken one raises fftconv.MLIRError whose location names the graph node
and the Python line that made it, e.g.

    loc("hyena.v1"("model.py":12:9)): error: 'fftconv.conv' op expects ...

`run_cpu` compiles the graph (fftconv-to-butterfly unless
`decompose=False`, then fftconv-to-cpu) and runs it in this process on
numpy arrays (see fftconv.cpu).
"""

import json
import os
import sys

import numpy as np

from . import dtypes

# The sequences' element types (fftconv.dtypes) and the complex spectra.
ELEMENT_TYPES = dtypes.ELEMENT_TYPES + ("complex<f32>",)

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _call_site():
    """(file, line, column) of the first caller outside this package: the
    line of user code that made a graph node."""
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _PACKAGE_DIR:
        frame = frame.f_back
    if frame is None:
        return ("<unknown>", 0, 0)
    column = 0
    positions = getattr(frame.f_code, "co_positions", None)
    if positions is not None:  # Python 3.11: the call's column
        for index, (line, _, col, _) in enumerate(positions()):
            if index == frame.f_lasti // 2 and col is not None and line == frame.f_lineno:
                column = col + 1
                break
    return (frame.f_code.co_filename, frame.f_lineno, column)


class Value:
    """A tensor in a Graph: its name, shape and element type. The shape and
    element type of an op's result are those the op's builder infers (they
    let callers shape later ops); whether the op is valid is the verifier's
    call when the graph is built."""

    def __init__(self, graph, name, shape, element):
        self.graph, self.name, self.shape, self.element = graph, name, tuple(shape), element

    @property
    def type(self):
        """A short description for messages, e.g. 2x4x64xf16."""
        return "x".join([str(d) for d in self.shape] + [self.element])

    def __repr__(self):
        return f"Value({self.name}: {self.type})"


class _Node:
    """One op: its kind, operands (Values), attributes and call site."""

    def __init__(self, kind, operands, attributes, result, site):
        self.kind, self.operands, self.attributes = kind, operands, attributes
        self.result, self.site = result, site


class Graph:
    def __init__(self, name="forward"):
        self.name = name
        self.inputs = []
        self.nodes = []
        self.outputs = []
        self._count = 0
        self._site = _call_site()
        self._output_site = self._site
        self._sites = {}

    # -- building -------------------------------------------------------------

    def input(self, name, shape, element):
        if element not in ELEMENT_TYPES:
            raise ValueError(f"input {name!r}: element type must be one of {ELEMENT_TYPES}, got {element!r}")
        if not name.isidentifier():
            raise ValueError(f"input name {name!r} is not an identifier")
        if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in shape):
            raise ValueError(f"input {name!r}: dimensions must be integers, got {tuple(shape)}")
        if any(int(d) <= 0 for d in shape):
            raise ValueError(f"input {name!r}: dimensions must be positive, got {tuple(shape)}")
        value = Value(self, name, tuple(int(d) for d in shape), element)
        self._sites[name] = _call_site()
        self.inputs.append(value)
        return value

    def output(self, *values):
        for value in values:
            self._own(value, "output")
            self.outputs.append(value)
        self._output_site = _call_site()

    def _own(self, value, op):
        if not isinstance(value, Value) or value.graph is not self:
            raise ValueError(f"{op}: operand {value!r} is not a value of this graph")

    def _node(self, kind, operands, attributes, shape, element):
        for value in operands:
            if value is not None:
                self._own(value, kind)
        self._count += 1
        result = Value(self, f"v{self._count}", shape, element)
        self.nodes.append(_Node(kind, operands, attributes, result, _call_site()))
        return result

    def conv(self, u, k, causal=True, pregate=None, postgate=None, skip=None, reverse=None):
        """fftconv.conv: u B x H x L or, multi-head, B x G x H x Z x L
        (f16/bf16/f32), k H x K (f32, K <= L), gates like u, skip D of
        shape H (f32), and `reverse`, the bidirectional form's reverse
        kernel H x K' (f32, causal only)."""
        self._own(u, "conv")
        operands = [u, k, pregate, postgate, skip] + ([reverse] if reverse is not None else [])
        return self._node("conv", operands, {"causal": bool(causal)}, u.shape, u.element)

    # The gradients fftconv.conv_grad can compute, in its results' order,
    # with the bit each one has in its `wrt` (fftconv-c/FFTConv.h).
    GRADIENTS = ("input", "kernel", "pregate", "postgate", "skip", "reverse")

    def conv_grad(self, u, k, dy, causal=True, pregate=None, postgate=None, skip=None,
                  wrt=("input", "kernel"), reverse=None):
        """fftconv.conv_grad: the gradients of a loss with respect to the
        operands of conv(u, k, causal, pregate, postgate, skip) named in
        `wrt`, given dy, the gradient with respect to its result. Returns a
        tuple of Values in the order input, kernel, pregate, postgate, skip,
        reverse (only those asked for), each shaped and typed like its
        operand."""
        self._own(u, "conv_grad")
        self._own(dy, "conv_grad")
        unknown = sorted(set(wrt) - set(self.GRADIENTS))
        if unknown or not wrt:
            raise ValueError(f"conv_grad: wrt must name some of {self.GRADIENTS}, got {tuple(wrt)}")
        operands = dict(zip(self.GRADIENTS, (u, k, pregate, postgate, skip, reverse)))
        for name in wrt:
            if operands[name] is None:
                raise ValueError(f"conv_grad: asks for the gradient of the {name}, which the convolution does not have")
        for value in (k, pregate, postgate, skip, reverse):
            if value is not None:
                self._own(value, "conv_grad")
        mask = sum(1 << i for i, name in enumerate(self.GRADIENTS) if name in wrt)
        results = []
        for name in self.GRADIENTS:
            if name in wrt:
                self._count += 1
                operand = operands[name]
                results.append(Value(self, f"v{self._count}", operand.shape, operand.element))
        tail = [reverse] if reverse is not None else []
        self.nodes.append(_Node("conv_grad", [u, k, pregate, postgate, skip, dy] + tail,
                                {"causal": bool(causal), "wrt": mask}, tuple(results), _call_site()))
        return tuple(results)

    def _transform(self, op, x, n, element, length):
        self._own(x, op)
        return self._node(op, [x], {"n": int(n)}, x.shape[:-1] + (int(length),), element)

    def fft(self, x, n):
        return self._transform("fft", x, n, "complex<f32>", n)

    def ifft(self, x, n):
        return self._transform("ifft", x, n, "complex<f32>", n)

    def rfft(self, x, n):
        return self._transform("rfft", x, n, "complex<f32>", int(n) // 2 + 1)

    def irfft(self, x, n):
        return self._transform("irfft", x, n, "f32", n)

    def channel_mul(self, x, kf, band=None, conjugate=False):
        """fftconv.channel_mul: x's spectra (B x H x F, complex<f32>) times
        the channels' kernel spectra kf (H x F), or their conjugates. With
        `band` (a frequency-sparse convolution), kf is taken as zero at the
        bins f >= band: irfft(channel_mul(rfft(u, n), rfft(k, n), band), n)
        is the form the compiler skips the zero blocks of."""
        self._own(x, "channel_mul")
        self._own(kf, "channel_mul")
        if band is not None and int(band) < 1:
            raise ValueError(f"channel_mul: band must be at least 1, got {band}")
        attributes = {"band": int(band) if band is not None else 0, "conjugate": bool(conjugate)}
        return self._node("channel_mul", [x, kf], attributes, x.shape, x.element)

    def squash(self, k, lam):
        """fftconv.squash with threshold `lam` (an f32; finite and >= 0)."""
        self._own(k, "squash")
        return self._node("squash", [k], {"lambda": float(lam)}, k.shape, k.element)

    def smooth(self, k, width):
        self._own(k, "smooth")
        return self._node("smooth", [k], {"width": int(width)}, k.shape, k.element)

    def constant(self, array, element):
        """A compile-time constant (arith.constant) holding `array` as
        `element`; the bytes go into the IR bit-exactly."""
        if element not in ELEMENT_TYPES:
            raise ValueError(f"constant: element type must be one of {ELEMENT_TYPES}, got {element!r}")
        array = np.asarray(array)
        return self._node("constant", [], {"data": _raw_bytes(array, element)}, array.shape, element)

    # -- output ---------------------------------------------------------------

    def signature(self):
        """A canonical description of the graph (JSON, no MLIR): equal for
        equal graphs, so it keys caches of compiled programs on machines
        without the compiler."""
        def ref(value):
            return None if value is None else value.name

        nodes = []
        for node in self.nodes:
            attributes = dict(node.attributes)
            if "data" in attributes:
                attributes["data"] = attributes["data"].hex()
            names = [v.name for v in node.result] if isinstance(node.result, tuple) else node.result.name
            nodes.append([node.kind, names, [ref(v) for v in node.operands], attributes])
        return json.dumps({
            "name": self.name,
            "inputs": [[v.name, list(v.shape), v.element] for v in self.inputs],
            "nodes": nodes,
            "outputs": [v.name for v in self.outputs],
        }, sort_keys=True)

    def module(self, context, named=False):
        """The graph as a module holding func.func @<name>(inputs) ->
        (outputs), built op by op through the bindings and verified (a
        broken rule raises MLIRError located at the graph node). `named`
        tags each argument with its name (`fftconv.name`), which the GPU
        launch manifest reports."""
        from ._fftconv import Function, Location, Type

        if not self.outputs:
            raise ValueError("graph has no outputs")

        def located(name, site):
            file, line, column = site
            return Location.name(context, name, Location.file(context, file, line, column))

        types = [Type.tensor(context, list(v.shape), v.element) for v in self.inputs]
        function = Function(
            context, self.name, types,
            argument_names=[v.name for v in self.inputs] if named else [],
            argument_locations=[located(v.name, self._sites[v.name]) for v in self.inputs],
            location=located(self.name, self._site),
        )
        values = dict(zip((v.name for v in self.inputs), function.arguments))

        def operand(value):
            if value is None:
                return None
            if value.name not in values:
                raise ValueError(f"{value.name} is used but is not an input of graph {self.name!r}")
            return values[value.name]

        for node in self.nodes:
            ops = [operand(v) for v in node.operands]
            a = node.attributes
            if node.kind == "conv_grad":
                loc = located(node.result[0].name, node.site)
                reverse = ops[6] if len(ops) > 6 else None
                gradients = function.conv_grad(ops[0], ops[1], a["causal"], *ops[2:5], ops[5], a["wrt"], loc,
                                               reverse=reverse)
                for value, gradient in zip(node.result, gradients):
                    values[value.name] = gradient
                continue
            loc = located(node.result.name, node.site)
            if node.kind == "conv":
                reverse = ops[5] if len(ops) > 5 else None
                result = function.conv(*ops[:2], a["causal"], *ops[2:5], loc, reverse=reverse)
            elif node.kind in ("fft", "ifft", "rfft", "irfft"):
                result = getattr(function, node.kind)(ops[0], a["n"], loc)
            elif node.kind == "channel_mul":
                result = function.channel_mul(ops[0], ops[1], a["band"], loc, conjugate=a["conjugate"])
            elif node.kind == "squash":
                result = function.squash(ops[0], a["lambda"], loc)
            elif node.kind == "smooth":
                result = function.smooth(ops[0], a["width"], loc)
            elif node.kind == "constant":
                ty = Type.tensor(context, list(node.result.shape), node.result.element)
                result = function.constant(ty, a["data"], loc)
            else:  # pragma: no cover - every kind above is made by a method
                raise ValueError(f"unknown op {node.kind}")
            values[node.result.name] = result
        return function.finish([operand(v) for v in self.outputs], located(self.name, self._output_site))

    def backward_module(self, context, keep_forward=True, wrt=None):
        """The graph's module with its reverse-mode gradient function
        @<name>_backward(inputs..., one gradient per output) -> (one
        gradient per input named in `wrt`, in that order; default: every
        input), derived by fftconv-derive-backward. Graphs of conv (with
        squash/smooth on its operands) only. Without `keep_forward` the
        module holds the backward alone (what a compiled backward needs:
        the forward is not compiled twice)."""
        from . import PassManager
        from . import cpu

        names = [v.name for v in self.inputs]
        indices = []
        for name in wrt or ():
            if name not in names:
                raise ValueError(f"backward: {name!r} is not an input of graph {self.name!r} (its inputs: {names})")
            indices.append(names.index(name))
        module = self.module(context)
        derive = "fftconv-derive-backward"
        if indices:
            derive += "{arguments=" + ",".join(map(str, indices)) + "}"
        passes = [derive]
        if not keep_forward:
            passes += [f"symbol-privatize{{exclude={self.name}_backward}}", "symbol-dce"]
        PassManager(context, cpu.pipeline(passes, cpu=False)).run(module)
        return module

    def mlir(self, named=False):
        """The module of `module()`, printed (needs the compiled bindings)."""
        from . import cpu

        return str(self.module(cpu.default_context(), named=named))

    def run_cpu(self, arrays, decompose=True, order="auto"):
        """Runs the graph on the CPU on `arrays` (name -> numpy array) and
        returns the outputs as numpy arrays (float32 or complex64)."""
        from . import cpu

        missing = [v.name for v in self.inputs if v.name not in arrays]
        if missing:
            raise ValueError(f"run_cpu: no array for inputs {missing}")
        unknown = sorted(set(arrays) - {v.name for v in self.inputs})
        if unknown:
            raise ValueError(f"run_cpu: {unknown} are not inputs of graph {self.name!r} "
                             f"(its inputs: {[v.name for v in self.inputs]})")
        key = (self.signature(), bool(decompose), str(order))
        executable = _RUN_CACHE.pop(key, None)
        if executable is None:
            passes = [cpu.butterfly_pipeline(order=order)] if decompose else []
            module = self.module(cpu.default_context())
            # O0: most graphs run once or a few times (cpu.run's reasoning).
            executable = cpu.Executable(module, function=self.name, passes=passes, opt_level=0)
        # Least recently used last out: a graph run again is not recompiled.
        _RUN_CACHE[key] = executable
        while len(_RUN_CACHE) > _RUN_CACHE_SIZE:
            del _RUN_CACHE[next(iter(_RUN_CACHE))]
        outputs = executable(*[arrays[v.name] for v in self.inputs])
        return [cpu.as_float(y, element) for y, (_, element) in zip(outputs, executable.results)]


# run_cpu's compiled programs, by graph signature and options, least
# recently used first (each holds a JIT engine: a bounded number).
_RUN_CACHE = {}
_RUN_CACHE_SIZE = 32


def _raw_bytes(array, element):
    """The row-major bytes of `array` stored as `element` (bf16 from float
    values rounded to nearest even, or from uint16 bit patterns)."""
    from . import reference

    if element == "f32":
        return np.ascontiguousarray(array, dtype="<f4").tobytes()
    if element == "f16":
        return np.ascontiguousarray(array, dtype="<f2").tobytes()
    if element == "bf16":
        bits = array if array.dtype == np.uint16 else reference.bf16_bits(array)
        return np.ascontiguousarray(bits, dtype="<u2").tobytes()
    return np.ascontiguousarray(array, dtype="<c8").tobytes()
