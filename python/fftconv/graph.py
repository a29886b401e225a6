"""Build fftconv programs from Python.

    g = Graph("hyena")
    u = g.input("u", (2, 8, 1024), "f16")
    k = g.input("k", (8, 1024), "f32")
    x1, x2 = g.input("x1", (2, 8, 1024), "f16"), g.input("x2", (2, 8, 1024), "f16")
    d = g.input("d", (8,), "f32")
    g.output(g.conv(u, k, pregate=x1, postgate=x2, skip=d))
    print(g.mlir())                       # func.func @hyena(...)
    (y,) = g.run_cpu({"u": ..., "k": ..., "x1": ..., "x2": ..., "d": ...})

Shapes and element types are checked as the graph is built (ValueError
naming the op and the rule); `module(context)` parses the graph with the
compiled bindings, whose verifier has the last word. `run_cpu` compiles the
graph through the compiler (fftconv-to-butterfly unless `decompose=False`)
and the CPU pipeline and runs it on numpy arrays.
"""

import numpy as np

from . import cpu

ELEMENT_TYPES = ("f16", "bf16", "f32", "complex<f32>")


class Value:
    """A tensor in a Graph: its SSA name, shape and element type."""

    def __init__(self, graph, name, shape, element):
        self.graph, self.name, self.shape, self.element = graph, name, tuple(shape), element

    @property
    def type(self):
        return cpu.tensor_type(self.shape, self.element)

    def __repr__(self):
        return f"Value({self.name}: {self.type})"


class Graph:
    def __init__(self, name="forward"):
        self.name = name
        self.inputs = []
        self.ops = []  # (result Value, text with {name} placeholders)
        self.outputs = []
        self._count = 0

    # -- building -------------------------------------------------------------

    def input(self, name, shape, element):
        if element not in ELEMENT_TYPES:
            raise ValueError(f"input {name!r}: element type must be one of {ELEMENT_TYPES}, got {element!r}")
        if any(int(d) <= 0 for d in shape):
            raise ValueError(f"input {name!r}: dimensions must be positive, got {tuple(shape)}")
        if not name.isidentifier():
            raise ValueError(f"input name {name!r} is not an identifier")
        value = Value(self, name, shape, element)
        self.inputs.append(value)
        return value

    def output(self, *values):
        for value in values:
            self._own(value, "output")
            self.outputs.append(value)

    def _own(self, value, op):
        if not isinstance(value, Value) or value.graph is not self:
            raise ValueError(f"{op}: operand {value!r} is not a value of this graph")

    def _result(self, shape, element, text, operands):
        self._count += 1
        result = Value(self, f"v{self._count}", shape, element)
        self.ops.append((result, text, operands))
        return result

    def conv(self, u, k, causal=True, pregate=None, postgate=None, skip=None):
        """fftconv.conv: u B x H x L (f16/bf16/f32), k H x K (f32, K <= L),
        gates like u, skip D of shape H (f32)."""
        self._own(u, "conv")
        self._own(k, "conv")
        if len(u.shape) != 3 or u.element not in ("f16", "bf16", "f32"):
            raise ValueError(f"conv: u must be B x H x L of f16, bf16 or f32, got {u.type}")
        if len(k.shape) != 2 or k.element != "f32":
            raise ValueError(f"conv: k must be H x K of f32, got {k.type}")
        if k.shape[0] != u.shape[1]:
            raise ValueError(f"conv: k has {k.shape[0]} channels, u has H = {u.shape[1]}")
        if k.shape[1] > u.shape[2]:
            raise ValueError(f"conv: kernel length K = {k.shape[1]} exceeds the sequence length L = {u.shape[2]}")
        operands = [u, k]
        clauses = ""
        for keyword, gate in (("pregate", pregate), ("postgate", postgate)):
            if gate is not None:
                self._own(gate, "conv")
                if gate.type != u.type:
                    raise ValueError(f"conv: {keyword} must have u's type {u.type}, got {gate.type}")
                clauses += f" {keyword} {{{len(operands)}}}"
                operands.append(gate)
        if skip is not None:
            self._own(skip, "conv")
            if skip.shape != (u.shape[1],) or skip.element != "f32":
                raise ValueError(f"conv: skip must be tensor<{u.shape[1]}xf32>, got {skip.type}")
            clauses += f" skip {{{len(operands)}}}"
            operands.append(skip)
        mode = "causal" if causal else "circular"
        types = ", ".join(v.type for v in operands)
        text = f"fftconv.conv {mode} {{0}}, {{1}}{clauses} : ({types}) -> {u.type}"
        return self._result(u.shape, u.element, text, operands)

    def _transform(self, op, x, n, input_element, output_element, length):
        self._own(x, op)
        if x.element != input_element:
            raise ValueError(f"{op}: input must be {input_element}, got {x.type}")
        if int(n) < 1:
            raise ValueError(f"{op}: n must be positive, got {n}")
        shape = x.shape[:-1] + (length,)
        out = cpu.tensor_type(shape, output_element)
        return self._result(shape, output_element, f"fftconv.{op} {{0}} n = {n} : {x.type} -> {out}", [x])

    def fft(self, x, n):
        return self._transform("fft", x, n, "complex<f32>", "complex<f32>", n)

    def ifft(self, x, n):
        return self._transform("ifft", x, n, "complex<f32>", "complex<f32>", n)

    def rfft(self, x, n):
        return self._transform("rfft", x, n, "f32", "complex<f32>", n // 2 + 1)

    def irfft(self, x, n):
        return self._transform("irfft", x, n, "complex<f32>", "f32", n)

    def squash(self, k, lam):
        self._own(k, "squash")
        if k.element != "f32" or not lam >= 0:
            raise ValueError(f"squash: needs f32 input and lambda >= 0, got {k.type}, {lam}")
        return self._result(k.shape, "f32", f"fftconv.squash {{0}} lambda = {float(lam)!r} : {k.type}", [k])

    def smooth(self, k, width):
        self._own(k, "smooth")
        if k.element != "f32" or width < 1 or width % 2 == 0:
            raise ValueError(f"smooth: needs f32 input and an odd width >= 1, got {k.type}, {width}")
        return self._result(k.shape, "f32", f"fftconv.smooth {{0}} width = {int(width)} : {k.type}", [k])

    # -- output ---------------------------------------------------------------

    def _body(self, names):
        lines = []
        for result, text, operands in self.ops:
            lines.append(f"%{result.name} = " + text.format(*[names[v.name] for v in operands]))
            names[result.name] = f"%{result.name}"
        return lines

    def mlir(self, named=False):
        """The graph as a func.func taking its inputs and returning its outputs.
        `named` tags each argument with its name (`fftconv.name`), which the
        GPU launch manifest reports."""
        if not self.outputs:
            raise ValueError("graph has no outputs")
        names = {v.name: f"%{v.name}" for v in self.inputs}
        tag = (lambda v: f' {{fftconv.name = "{v.name}"}}') if named else (lambda v: "")
        args = ", ".join(f"%{v.name}: {v.type}{tag(v)}" for v in self.inputs)
        results = ", ".join(v.type for v in self.outputs)
        body = "\n    ".join(self._body(names))
        returned = ", ".join(names[v.name] for v in self.outputs)
        return (
            f"func.func @{self.name}({args}) -> ({results}) {{\n    {body}\n"
            f"    return {returned} : {results}\n}}\n"
        )

    def module(self, context):
        """The graph parsed (and verified) by the compiled bindings."""
        from . import Module

        return Module.parse(context, self.mlir(), f"graph:{self.name}")

    def run_cpu(self, arrays, decompose=True, order="auto"):
        """Runs the graph on the CPU on `arrays` (name -> numpy array) and
        returns the outputs as numpy arrays (float32 or complex64)."""
        missing = [v.name for v in self.inputs if v.name not in arrays]
        if missing:
            raise ValueError(f"run_cpu: no array for inputs {missing}")
        prog = cpu.Program()
        names = {}
        for value in self.inputs:
            array = np.asarray(arrays[value.name])
            if array.shape != value.shape:
                raise ValueError(f"run_cpu: input {value.name!r} has shape {array.shape}, expected {value.shape}")
            names[value.name] = prog.input(array, value.element)
        for result, text, operands in self.ops:
            names[result.name] = prog.op(text.format(*[names[v.name] for v in operands]), result.type)
        for value in self.outputs:
            prog.output(names[value.name])
        passes = [cpu.butterfly_pipeline(order=order)] if decompose else []
        return prog.run(extra_passes=passes)
