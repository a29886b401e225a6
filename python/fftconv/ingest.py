"""Ingest FFT convolutions written in PyTorch into fftconv graphs.

    from fftconv.ingest import ingest
    result = ingest(module, (u,))              # example inputs: a tuple of tensors
    print(result.graph.mlir())                 # func.func @forward(%u, %k, ...)
    (y,) = result.graph.run_cpu(result.arrays(u))   # parameters included

The module is traced with torch.fx (`symbolic_trace`, or `make_fx` when
symbolic tracing fails, e.g. on `n=u.shape[-1] * 2`), run once on the
example inputs to learn every node's shape and dtype, and its graph is read
by an abstract interpretation that follows what each value *is*:

    a signal      a placeholder or parameter (or a product u * pregate, or a
                  recognised convolution's result)
    a spectrum    rfft / fft of a signal (zero padding and norm= followed)
    a product     spectrum * spectrum (scalar factors such as / n followed)
    a convolution irfft / ifft of a product; then `.real`, a crop to L,
                  `+ v * D.unsqueeze(-1)` (skip), `* postgate`, a cast

A convolution is accepted when its transforms' normalizations and scalar
factors cancel and its FFT size n gives exactly `fftconv.conv`: causal when
n >= L + K - 1 (cropped to L), circular when n == L. n itself need not be a
power of two: the compiler picks its own FFT size for the op.

Nothing is dropped: a node that is not part of a recognised convolution
(an activation, a dead computation, a transform of a spectrum that is not a
product, ...) raises `UnsupportedPattern` listing every such node. A
recognised convolution with wrong shapes (u not B x H x L, k not H x K with
K <= L, an n that gives neither convolution) raises ValueError naming the
node.
"""

import builtins
import dataclasses
import inspect
import math
import operator
import re
from dataclasses import dataclass, field
from typing import Any, Optional

import torch
import torch.fx as fx

from . import dtypes
from .graph import Graph

__all__ = ["ingest", "IngestResult", "Source", "Convolution", "UnsupportedPattern"]


class UnsupportedPattern(ValueError):
    """The traced graph has nodes outside every recognised convolution.
    `nodes` lists them as (name, target) pairs, in graph order."""

    def __init__(self, message, nodes=()):
        super().__init__(message)
        self.nodes = list(nodes)


# ---------------------------------------------------------------------------
# Element types
# ---------------------------------------------------------------------------

_TORCH_DTYPE = dtypes.torch_dtypes()
_ELEMENT = {dtype: element for element, dtype in _TORCH_DTYPE.items()}
# (stored as, declared as) pairs where the graph input holds the same values.
_EXACT = {("f32", "f32"), ("f16", "f16"), ("bf16", "bf16"), ("f16", "f32"), ("bf16", "f32")}
_NARROW = (torch.float16, torch.bfloat16)


def _widens_exactly(src, dst):
    """A cast from src to dst keeps every value."""
    if src == dst:
        return True
    if src in _NARROW:
        return dst in (torch.float32, torch.float64)
    return src == torch.float32 and dst == torch.float64


# ---------------------------------------------------------------------------
# Node metadata
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _TensorMeta:
    shape: tuple
    dtype: Any


class _Recorder(fx.Interpreter):
    """Runs the traced graph once and keeps every node's shape and dtype
    (tensors) or value (anything else)."""

    def __init__(self, gm):
        super().__init__(gm, garbage_collect_values=False)
        self.meta = {}

    def run_node(self, n):
        value = super().run_node(n)
        if isinstance(value, torch.Tensor):
            self.meta[n] = _TensorMeta(tuple(value.shape), value.dtype)
        else:
            self.meta[n] = value
        return value


_STATIC_ATTRS = {"shape", "dtype", "ndim", "device", "is_cuda", "layout"}
_STATIC_METHODS = {"size", "dim", "numel", "ndimension", "nelement"}
_STATIC_FUNCTIONS = (
    operator.getitem, operator.add, operator.sub, operator.mul, operator.floordiv, operator.truediv,
    operator.mod, operator.pow, operator.neg, operator.lt, operator.le, operator.gt, operator.ge,
    operator.eq, operator.ne, builtins.len, builtins.int, builtins.float, builtins.max, builtins.min,
    math.ceil, math.floor, math.log2, math.sqrt,
)


_PUBLIC = {}


def _public_names():
    """id(function) -> its public name (torch.fft.rfft rather than
    torch._C._fft.fft_rfft), first namespace first."""
    if not _PUBLIC:
        for namespace, prefix in ((torch.fft, "torch.fft"), (torch.nn.functional, "torch.nn.functional"),
                                  (torch, "torch"), (operator, "operator"), (builtins, "builtins"), (math, "math")):
            for attr in dir(namespace):
                if attr.startswith("_"):
                    continue
                value = getattr(namespace, attr, None)
                if callable(value) and not isinstance(value, type):
                    _PUBLIC.setdefault(id(value), f"{prefix}.{attr}")
    return _PUBLIC


def _target_name(node, gm=None):
    """The node's target as a reader would write it."""
    target = node.target
    if node.op == "call_method":
        return f"Tensor.{target}"
    if node.op == "call_module":
        module = gm.get_submodule(target) if gm is not None else None
        if module is None:
            return str(target)
        cls = type(module)
        public = f"torch.nn.{cls.__name__}" if getattr(torch.nn, cls.__name__, None) is cls else f"{cls.__module__}.{cls.__qualname__}"
        return f"{public} at self.{target}"
    if node.op != "call_function":
        return str(target)
    if isinstance(target, (torch._ops.OpOverload, torch._ops.OpOverloadPacket)):
        return str(target)
    public = _public_names().get(id(target))
    if public:
        return public
    try:
        return fx.node._get_qualified_name(target)
    except Exception:  # pragma: no cover - exotic targets
        return repr(target)


def _describe(node, gm=None):
    return f"{node.name} ({_target_name(node, gm)})"


# ---------------------------------------------------------------------------
# Abstract values
# ---------------------------------------------------------------------------
#
# Every value carries `nodes`: the fx nodes (call_*) that computed it. A node
# is consumed when it belongs to a recognised convolution that is used.


@dataclass(eq=False)
class _Value:
    nodes: frozenset = field(default=frozenset(), kw_only=True)


@dataclass(eq=False)
class _Leaf(_Value):
    """A placeholder or get_attr tensor (through exact casts)."""

    node: Any
    shape: tuple
    dtype: Any

    @property
    def key(self):
        return ("leaf", self.node)


def _channel_axis(shape):
    """The kernel's channel axis of a sequence tensor: 1 of B x H x L, 2 of
    the multi-head B x G x H x Z x L; None for any other rank."""
    return {3: 1, 5: 2}.get(len(shape))


def _is_channel_weight(weight_shape, sig_shape):
    """Whether a tensor of `weight_shape` holds one weight per channel of
    sequences `sig_shape` under broadcasting: its one axis of more than one
    element (or its only element, H = 1) falls on their channel axis."""
    axis = _channel_axis(sig_shape)
    if axis is None or len(weight_shape) > len(sig_shape):
        return False
    aligned = (1,) * (len(sig_shape) - len(weight_shape)) + tuple(weight_shape)
    return all(size == (sig_shape[axis] if i == axis else 1) for i, size in enumerate(aligned))


@dataclass(eq=False)
class _Gated(_Value):
    """u * pregate, both B x H x L (or B x G x H x Z x L) signals."""

    u: Any
    gate: Any

    @property
    def shape(self):
        return self.u.shape

    @property
    def key(self):
        return ("gated", frozenset((self.u.key, self.gate.key)))


@dataclass(eq=False)
class _Padded(_Value):
    """A signal zero-padded on the right of its last axis to `length`."""

    sig: Any
    length: int


@dataclass(eq=False)
class _Spectrum(_Value):
    sig: Any
    n: int
    onesided: bool
    scale: float
    node: Any
    lead: tuple = ()  # the spectrum tensor's shape but its last axis (views change it)
    conjugated: bool = False
    reverse: Any = None  # a kernel's spectrum plus conj(rfft(reverse)): bidirectional


@dataclass(eq=False)
class _Product(_Value):
    a: _Spectrum
    b: _Spectrum
    n: int
    onesided: bool
    scale: float


@dataclass(eq=False)
class _ChannelVec(_Value):
    """D, one weight per channel, viewed as `shape` (H x 1 of B x H x L,
    1 x H x 1 x 1 of B x G x H x Z x L, ...)."""

    leaf: _Leaf
    shape: tuple = ()


@dataclass(eq=False)
class _SkipTerm(_Value):
    """v * D.unsqueeze(-1)."""

    sig: Any
    d: _Leaf


@dataclass(eq=False)
class _RealView(_Value):
    """view_as_real of a complex convolution result."""

    conv: Any


@dataclass(eq=False)
class _Conv(_Value):
    u: Any  # _Leaf, _Gated or a valid _Conv
    k: _Leaf
    n: int
    complex: bool
    scale: float
    length: int  # the current extent of the last axis
    node: Any  # the node that produced this value
    dtype: Any = None
    narrowed: bool = False  # rounded to f16/bf16 by a cast
    skip: Optional[_Leaf] = None
    postgate: Any = None
    reverse: Optional[_Leaf] = None  # the bidirectional form's reverse kernel

    @property
    def shape(self):
        return tuple(self.u.shape[:-1]) + (self.length,)

    @property
    def extensible(self):
        """Crops, scalar factors and the skip term apply to the bare
        convolution."""
        return self.skip is None and self.postgate is None and not self.narrowed

    @property
    def gateable(self):
        """The postgate multiplies the convolution plus its skip term."""
        return self.postgate is None and not self.narrowed

    def mode(self):
        """'causal' or 'circular', or a string saying what is wrong (as
        (None, problem))."""
        length, taps = self.u.shape[-1], self.k.shape[-1]
        if self.reverse is not None:
            taps = max(taps, self.reverse.shape[-1])
        if abs(self.scale - 1.0) > 1e-9:
            return None, (
                f"the convolution is scaled by {self.scale:.6g}: the transforms' normalizations "
                f"(norm=) and scalar factors (such as / n) must cancel"
            )
        if self.n >= length + taps - 1:
            mode = "causal"
        elif self.n == length and self.reverse is None:
            mode = "circular"
        elif self.reverse is not None:
            return None, (
                f"FFT size n = {self.n} with a reverse kernel (conj of its spectrum): the bidirectional "
                f"convolution needs n >= L + K' - 1 = {length + taps - 1}, so that its lags do not wrap"
            )
        else:
            return None, (
                f"FFT size n = {self.n} gives neither a causal convolution (n >= L + K - 1 = "
                f"{length + taps - 1}) nor a circular one (n == L = {length})"
            )
        if self.length != length:
            return None, (
                f"the result has {self.length} samples on its last axis, expected the sequence "
                f"length L = {length} (crop the FFT output with [..., :L])"
            )
        return mode, None

    @property
    def key(self):
        mode, _ = self.mode()
        skip = None if self.skip is None else self.skip.key
        post = None if self.postgate is None else self.postgate.key
        reverse = None if self.reverse is None else self.reverse.key
        return ("conv", self.u.key, self.k.key, mode, skip, post, self.dtype, reverse)


_OPAQUE = object()


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


# ---------------------------------------------------------------------------
# Op classification
# ---------------------------------------------------------------------------

_FUNCTIONS = [
    (torch.fft.rfft, "rfft"), (torch.fft.irfft, "irfft"), (torch.fft.fft, "fft"), (torch.fft.ifft, "ifft"),
    (operator.mul, "mul"), (torch.mul, "mul"), (operator.truediv, "div"), (torch.div, "div"),
    (torch.true_divide, "div"), (operator.add, "add"), (torch.add, "add"), (operator.getitem, "getitem"),
    (builtins.getattr, "getattr"), (torch.real, "real"), (torch.unsqueeze, "reshape"),
    (torch.reshape, "reshape"), (torch.squeeze, "reshape"), (torch.nn.functional.pad, "pad"),
    (torch.constant_pad_nd, "pad_nd"), (torch.clone, "identity"), (torch.view_as_real, "view_as_real"),
    (torch.select, "select"), (torch.conj, "conj"), (torch.conj_physical, "conj"),
    (torch.resolve_conj, "identity"),
]

_METHODS = {
    "mul": "mul", "div": "div", "true_divide": "div", "add": "add", "to": "cast", "float": "cast",
    "half": "cast", "bfloat16": "cast", "double": "cast", "type_as": "cast", "contiguous": "identity",
    "clone": "identity", "detach": "identity", "unsqueeze": "reshape", "view": "reshape",
    "reshape": "reshape", "squeeze": "reshape", "select": "select", "conj": "conj",
    "conj_physical": "conj", "resolve_conj": "identity",
}

_ATEN = {
    "aten.mul.Tensor": "mul", "aten.mul.Scalar": "mul", "aten.div.Tensor": "div", "aten.div.Scalar": "div",
    "aten.add.Tensor": "add", "aten.slice.Tensor": "slice", "aten.select.int": "select",
    "aten.view_as_real.default": "view_as_real", "aten.real.default": "real", "aten._to_copy.default": "cast",
    "aten.clone.default": "identity", "aten.detach.default": "identity", "aten.alias.default": "identity",
    "aten.lift_fresh_copy.default": "identity", "aten.unsqueeze.default": "reshape",
    "aten.view.default": "reshape", "aten._unsafe_view.default": "reshape", "aten.reshape.default": "reshape",
    "aten.squeeze.dim": "reshape", "aten.squeeze.default": "reshape",
    "aten.constant_pad_nd.default": "pad_nd", "aten.conj.default": "conj",
    "aten._conj.default": "conj", "aten.conj_physical.default": "conj",
    "aten._conj_physical.default": "conj", "aten.resolve_conj.default": "identity", "aten._fft_r2c.default": "r2c",
    "aten._fft_c2r.default": "c2r", "aten._fft_c2c.default": "c2c",
}


def _kind(node):
    if node.op == "call_method":
        return _METHODS.get(node.target)
    if node.op != "call_function":
        return None
    target = node.target
    if isinstance(target, torch._ops.OpOverload):
        return _ATEN.get(str(target))
    for function, kind in _FUNCTIONS:
        if target is function:
            return kind
    return None


def _bind(args, kwargs, names, defaults):
    """Positional and keyword arguments by name; None if any is unknown."""
    if len(args) > len(names):
        return None
    bound = dict(defaults)
    bound.update(zip(names, args))
    for key, value in kwargs.items():
        if key not in names:
            return None
        bound[key] = value
    return bound


_FORWARD_SCALE = {None: lambda n: 1.0, "backward": lambda n: 1.0, "ortho": lambda n: 1 / math.sqrt(n),
                  "forward": lambda n: 1.0 / n}
# Relative to the standard inverse's 1/n.
_INVERSE_SCALE = {None: lambda n: 1.0, "backward": lambda n: 1.0, "ortho": lambda n: math.sqrt(n),
                  "forward": lambda n: float(n)}
# aten's fft_norm_mode: 0 none, 1 by 1/sqrt(n), 2 by 1/n.
_ATEN_FORWARD_SCALE = {0: lambda n: 1.0, 1: lambda n: 1 / math.sqrt(n), 2: lambda n: 1.0 / n}
_ATEN_INVERSE_SCALE = {0: lambda n: float(n), 1: lambda n: math.sqrt(n), 2: lambda n: 1.0}


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where a graph input comes from.

    kind: "input" (example_inputs[index], the forward argument `name`),
    "parameter", "buffer" or "attribute" (the module's attribute at the
    dotted path `name`), or "constant" (a tensor the tracer captured)."""

    kind: str
    name: str
    index: Optional[int]
    shape: tuple
    element: str
    node: str


@dataclass(frozen=True)
class Convolution:
    """One recognised convolution, as the fftconv.conv it became."""

    mode: str
    n: int
    shape: tuple  # B, H, L (B, G, H, Z, L multi-head)
    taps: int  # K
    element: str
    pregate: bool
    postgate: bool
    skip: bool
    nodes: tuple  # names of the fx nodes it replaces, in graph order
    reverse_taps: Optional[int] = None  # K' of a bidirectional convolution's reverse kernel


class IngestResult:
    """What `ingest` recognised.

    graph          the fftconv.graph.Graph (inputs: see `sources`)
    sources        graph input name -> Source (the placeholder or parameter)
    convolutions   the recognised convolutions, in graph order
    graph_module   the traced torch.fx.GraphModule; tracer: "symbolic_trace" or "make_fx"

    With partial=True: graph is None and
    graphs           one fftconv.graph.Graph per compiled convolution
    compiled_module  the module with those convolutions compiled (a
                     torch.nn.Module; graph_module is its traced graph)
    skipped          (node name, reason) of convolutions left to PyTorch
    """

    def __init__(self, module, graph, sources, convolutions, graph_module, tracer, num_inputs, constants):
        self.module = module
        self.graph = graph
        self.sources = sources
        self.convolutions = convolutions
        self.graph_module = graph_module
        self.tracer = tracer
        self._num_inputs = num_inputs
        self._constants = constants
        self.graphs = [graph] if graph is not None else []
        self.compiled_module = None
        self.skipped = []

    def _tensor(self, source, inputs):
        if source.kind == "input":
            return inputs[source.index]
        if source.kind == "constant":
            return self._constants[source.name]
        value = self.module
        for part in source.name.split("."):
            value = getattr(value, part)
        return value

    def arrays(self, *inputs):
        """The numpy arrays for `graph.run_cpu`, name -> array, from the
        module's inputs (as passed to forward) and its current parameters."""
        if self.graph is None:
            raise ValueError("arrays: a partial ingestion has one graph per convolution, fed by PyTorch code; "
                             "run it as result.compiled_module(*inputs)")
        if len(inputs) != self._num_inputs:
            raise ValueError(f"arrays: expected {self._num_inputs} inputs like the example inputs, got {len(inputs)}")
        arrays = {}
        shapes = {v.name: v.shape for v in self.graph.inputs}
        for name, source in self.sources.items():
            tensor = self._tensor(source, inputs)
            if not isinstance(tensor, torch.Tensor):
                raise ValueError(f"arrays: {source.kind} {source.name!r} is not a tensor")
            if tuple(tensor.shape) != source.shape:
                raise ValueError(
                    f"arrays: {source.kind} {source.name!r} has shape {tuple(tensor.shape)}, "
                    f"the graph was ingested for {source.shape}"
                )
            tensor = tensor.detach().cpu().reshape(shapes[name])  # D of H x 1 is passed as H
            if source.element == "f16":
                arrays[name] = tensor.to(torch.float16).numpy()
            else:  # f32, and bf16 values passed as float32 (exact)
                arrays[name] = tensor.to(torch.float32).numpy()
        return arrays

    def run_cpu(self, *inputs, decompose=True, order="auto"):
        """graph.run_cpu(self.arrays(*inputs)): the outputs as numpy arrays,
        in the order of the module's flattened outputs."""
        return self.graph.run_cpu(self.arrays(*inputs), decompose=decompose, order=order)

    def gradients(self, *inputs, grad_outputs, decompose=True, order="auto"):
        """The gradient of every graph input (the module's inputs and
        parameters, by graph input name, as numpy arrays) given one gradient
        per module output (`grad_outputs`, tensors or arrays): the backward
        the compiler derives from the ingested graph
        (fftconv-derive-backward), compiled for the CPU like
        fftconv.native.CompiledBackward. On the GPU the same graph compiles
        with fftconv.compile(result.graph, training=True)."""
        from .cpu import NUMPY_OF
        from .native import CompiledBackward

        if self.graph is None:
            raise ValueError("gradients: a partial ingestion is differentiated by autograd through "
                             "result.compiled_module(*inputs)")
        grads = list(grad_outputs) if isinstance(grad_outputs, (list, tuple)) else [grad_outputs]
        if len(grads) != len(self.graph.outputs):
            raise ValueError(f"gradients: expected {len(self.graph.outputs)} output gradients, got {len(grads)}")
        arrays = self.arrays(*inputs)
        dys = []
        for grad, value in zip(grads, self.graph.outputs):
            grad = grad.detach().cpu().to(torch.float32).numpy() if isinstance(grad, torch.Tensor) else grad
            if tuple(grad.shape) != value.shape:
                raise ValueError(f"gradients: the gradient of output {value.name!r} has shape "
                                 f"{tuple(grad.shape)}, the output {value.shape}")
            dys.append(grad.astype(NUMPY_OF[value.element]) if value.element != "bf16" else grad)
        backward = CompiledBackward(self.graph, decompose=decompose, order=order)
        names = [v.name for v in self.graph.inputs]
        results = backward(*[arrays[name] for name in names], *dys)
        results = results if isinstance(results, (list, tuple)) else [results]
        return dict(zip(names, results))

    def __repr__(self):
        convs = ", ".join(f"{c.mode} n={c.n} {c.shape}x{c.taps}" for c in self.convolutions)
        if self.graph is None:
            return f"IngestResult(partial: convolutions [{convs}], {len(self.skipped)} left to PyTorch, {self.tracer})"
        return f"IngestResult({self.graph.name}: {len(self.sources)} inputs, convolutions [{convs}], {self.tracer})"


# ---------------------------------------------------------------------------
# Tracing
# ---------------------------------------------------------------------------


def _forward_names(module, count):
    try:
        params = list(inspect.signature(module.forward).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [names[i] if i < len(names) else f"input{i}" for i in range(count)]


def _attributes(module):
    """id(tensor) -> dotted path, for the module's plain tensor attributes."""
    attributes = {}
    for prefix, sub in module.named_modules():
        for attr, value in vars(sub).items():
            if isinstance(value, torch.Tensor):
                attributes[id(value)] = f"{prefix}.{attr}" if prefix else attr
    return attributes


def _get_attr_origins(module, gm, origins, constants):
    params = dict(module.named_parameters())
    buffers = dict(module.named_buffers())
    attributes = _attributes(module)
    for node in gm.graph.nodes:
        if node.op != "get_attr":
            continue
        if node.target in params:
            origins[node] = ("parameter", node.target, None)
        elif node.target in buffers:
            origins[node] = ("buffer", node.target, None)
        else:
            tensor = gm
            for part in node.target.split("."):
                tensor = getattr(tensor, part)
            if id(tensor) in attributes:
                origins[node] = ("attribute", attributes[id(tensor)], None)
            else:  # computed at trace time, e.g. from a plain tensor attribute
                constants[node.target] = tensor
                origins[node] = ("constant", node.target, None)


@dataclass
class _Traced:
    tracer: str
    gm: Any
    meta: dict
    origins: dict  # placeholder/get_attr node -> (kind, name, index)
    constants: dict


def _trace_symbolic(module, example_inputs):
    names = _forward_names(module, len(example_inputs))
    tracing = fx.Tracer()
    tracing.proxy_buffer_attributes = True  # buffers as get_attr, not trace-time constants
    graph = tracing.trace(module)
    gm = fx.GraphModule(tracing.root, graph, type(module).__name__)
    recorder = _Recorder(gm)
    with torch.no_grad():
        recorder.run(*example_inputs)
    origins, constants = {}, {}
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    for i, node in enumerate(placeholders[: len(example_inputs)]):
        origins[node] = ("input", names[i], i)
    _get_attr_origins(module, gm, origins, constants)
    return _Traced("symbolic_trace", gm, recorder.meta, origins, constants)


def _trace_make_fx(module, example_inputs):
    """make_fx over functional_call, so that parameters and buffers are
    placeholders (the state dict's first, then the forward arguments)."""
    from torch.fx.experimental.proxy_tensor import make_fx
    try:
        from torch.func import functional_call
    except ImportError:  # torch < 2.0 (Debian's): the same call, its older home
        from torch.nn.utils.stateless import functional_call

    names = _forward_names(module, len(example_inputs))
    state, kinds = {}, {}
    for name, param in module.named_parameters():
        state[name], kinds[name] = param, "parameter"
    for name, buffer in module.named_buffers():
        state[name], kinds[name] = buffer, "buffer"

    def call(state, *args):
        return functional_call(module, state, args)

    gm = make_fx(call)(state, *example_inputs)
    recorder = _Recorder(gm)
    with torch.no_grad():
        recorder.run(state, *example_inputs)
    origins, constants = {}, {}
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    state_names = list(state)
    for i, node in enumerate(placeholders):
        if i < len(state_names):
            origins[node] = (kinds[state_names[i]], state_names[i], None)
        elif i - len(state_names) < len(example_inputs):
            index = i - len(state_names)
            origins[node] = ("input", names[index], index)
    _get_attr_origins(module, gm, origins, constants)
    return _Traced("make_fx", gm, recorder.meta, origins, constants)


# ---------------------------------------------------------------------------
# The abstract interpretation
# ---------------------------------------------------------------------------


class _Interpreter:
    def __init__(self, gm, meta, partial=False):
        self.gm = gm
        self.meta = meta
        self.partial = partial
        self.values = {}
        self.static = set()
        self.used = []  # valid convolutions consumed by unrecognised nodes
        # Partial ingestion: (node, convolution) for each node whose value a
        # compiled convolution computes and that PyTorch code reads, and
        # (node, reason) for the convolutions it leaves to PyTorch.
        self.roots = []
        self.skipped = []
        self.computed = set()  # unrecognised nodes read as inputs of convolutions

    # -- helpers ----------------------------------------------------------

    def where(self, node):
        return _describe(node, self.gm)

    def tensor_meta(self, node):
        meta = self.meta.get(node)
        return meta if isinstance(meta, _TensorMeta) else None

    def is_static(self, node):
        if isinstance(self.meta.get(node), _TensorMeta):
            return False
        if node.op == "placeholder":
            return True
        if node.op == "call_function" and node.target is builtins.getattr:
            return len(node.args) == 2 and node.args[1] in _STATIC_ATTRS
        if node.op == "call_method" and node.target in _STATIC_METHODS:
            return True
        if node.op == "call_function" and any(node.target is f for f in _STATIC_FUNCTIONS):
            return all(n in self.static for n in node.all_input_nodes)
        return False

    def resolve(self, a):
        if isinstance(a, fx.Node):
            if a in self.static:
                return self.meta[a]
            value = self.values.get(a)
            return _OPAQUE if value is None else value
        if isinstance(a, tuple):
            return tuple(self.resolve(x) for x in a)
        if isinstance(a, list):
            return [self.resolve(x) for x in a]
        if isinstance(a, dict):
            return {k: self.resolve(v) for k, v in a.items()}
        if isinstance(a, slice):
            return slice(self.resolve(a.start), self.resolve(a.stop), self.resolve(a.step))
        return a

    @staticmethod
    def flat(a):
        if isinstance(a, (tuple, list)):
            for x in a:
                yield from _Interpreter.flat(x)
        elif isinstance(a, dict):
            for x in a.values():
                yield from _Interpreter.flat(x)
        elif isinstance(a, slice):
            yield from _Interpreter.flat((a.start, a.stop, a.step))
        else:
            yield a

    def use_conv(self, conv, consumer):
        """A convolution used as a whole: it must be a valid fftconv.conv
        (ValueError otherwise); None while it is still complex."""
        if conv.complex:
            return None
        _, problem = conv.mode()
        if problem:
            raise ValueError(f"{self.where(conv.node)}, used by {self.where(consumer)}: {problem}")
        return conv

    def signal(self, x, consumer, gated=True):
        """x as a real signal: a placeholder or parameter, a convolution's
        result, or (when `gated`) a product u * pregate; None otherwise."""
        if isinstance(x, _Leaf):
            return x
        if isinstance(x, _Gated):
            return x if gated else self.as_value(x, consumer)
        if isinstance(x, _Conv):
            return self.use_conv(x, consumer)
        return None

    def as_value(self, x, consumer):
        """x as a tensor the graph can hold: a leaf, or a convolution's
        result; a product conv * gate used as such becomes the
        convolution's postgate. None otherwise."""
        if isinstance(x, (_Leaf, _Conv)):
            return self.signal(x, consumer)
        if isinstance(x, _Gated):
            for conv, gate in ((x.u, x.gate), (x.gate, x.u)):
                if isinstance(conv, _Conv) and conv.gateable:
                    return dataclasses.replace(conv, postgate=gate, nodes=conv.nodes | x.nodes)
        return None

    # -- the pass ---------------------------------------------------------

    def run(self):
        for node in self.gm.graph.nodes:
            if node.op in ("placeholder", "get_attr"):
                meta = self.tensor_meta(node)
                if meta is not None:
                    self.values[node] = _Leaf(node, meta.shape, meta.dtype)
                elif node.op == "placeholder":
                    self.static.add(node)
                continue
            if node.op == "output":
                continue
            if self.is_static(node):
                self.static.add(node)
                continue
            value = self.transfer(node)
            if value is None:
                if self.partial:
                    self.leave_to_torch(node)
                    continue
                # An unrecognised node: the convolutions it reads are used
                # as they are, so they must be valid.
                for x in self.flat(self.resolve((node.args, node.kwargs))):
                    if isinstance(x, (_Conv, _Gated)):
                        conv = self.as_value(x, node)
                        if conv is not None and not isinstance(conv, _Leaf):
                            self.used.append(conv)
                continue
            self.values[node] = value

    def root(self, node, consumer):
        """Partial ingestion: `node`'s value, read by `consumer` (PyTorch
        code or the output), is compiled where it is a valid convolution;
        otherwise PyTorch computes it as written, and why is recorded."""
        value = self.values.get(node)
        if not isinstance(value, (_Conv, _Gated)):
            return
        try:
            conv = self.as_value(value, consumer)
        except ValueError as error:
            self.skipped.append((node, str(error)))
            return
        if conv is None or isinstance(conv, _Leaf):
            return
        if conv.complex:
            self.skipped.append((node, f"{self.where(node)}: a complex result, read by {self.where(consumer)}"))
            return
        self.roots.append((node, conv))

    def leave_to_torch(self, node):
        """Partial ingestion: an unrecognised node stays PyTorch code; the
        convolutions it reads are compiled, and its real result may be the
        input of one (a tensor PyTorch computes, like Hyena's filter)."""
        for arg in node.all_input_nodes:
            self.root(arg, node)
        meta = self.tensor_meta(node)
        if meta is not None and meta.dtype.is_floating_point:
            self.values[node] = _Leaf(node, meta.shape, meta.dtype)
            self.computed.add(node)

    def transfer(self, node):
        kind = _kind(node)
        if kind is None:
            return None
        args = self.resolve(node.args)
        kwargs = self.resolve(node.kwargs)
        if any(x is _OPAQUE for x in self.flat((args, kwargs))):
            return None
        handler = getattr(self, "op_" + kind)
        result = handler(node, list(args), dict(kwargs))
        if result is None:
            return None
        result = dataclasses.replace(result)
        inputs = args[:1] if kind == "cast" else args  # type_as reads only a dtype
        nodes = {node}
        for x in self.flat((inputs, kwargs)):
            if isinstance(x, _Value):
                nodes |= x.nodes
        result.nodes = frozenset(nodes) | result.nodes
        if isinstance(result, _Conv):
            result.node = node
            meta = self.tensor_meta(node)
            if not result.complex and meta is not None:
                result.dtype = meta.dtype
        return result

    # -- scalar factors, products and sums ----------------------------------

    def scaled(self, x, factor):
        if isinstance(x, (_Spectrum, _Product)):
            return dataclasses.replace(x, scale=x.scale * factor)
        if isinstance(x, _Conv) and x.extensible:
            return dataclasses.replace(x, scale=x.scale * factor)
        return None

    def op_mul(self, node, args, kwargs):
        if len(args) != 2 or kwargs:
            return None
        a, b = args
        if _is_number(a) or _is_number(b):
            x, factor = (b, a) if _is_number(a) else (a, b)
            return self.scaled(x, float(factor))
        if isinstance(a, _Spectrum) and isinstance(b, _Spectrum):
            # A conjugated spectrum is a correlation: a convolution only as
            # rfft(k) + conj(rfft(k_rev)), the bidirectional filter (op_add).
            if a.onesided != b.onesided or a.conjugated or b.conjugated:
                return None
            if a.n != b.n:
                raise ValueError(
                    f"{self.where(node)}: multiplies spectra of different FFT sizes n = {a.n} "
                    f"({self.where(a.node)}) and n = {b.n} ({self.where(b.node)})"
                )
            return _Product(a, b, a.n, a.onesided, a.scale * b.scale)
        for x, y in ((a, b), (b, a)):
            if isinstance(y, _Leaf) and len(y.shape) == 2 and y.shape[1] == 1:
                y = _ChannelVec(y, tuple(y.shape))  # D stored as H x 1
            if isinstance(y, _ChannelVec):
                sig = self.signal(x, node)
                if sig is not None and _is_channel_weight(y.shape, sig.shape):
                    return _SkipTerm(sig, y.leaf, nodes=y.nodes)
                return None
        # u * pregate, or conv * postgate: which one is decided by the use
        # (an FFT reads a pregated input; anything else a postgated result).
        sa, sb = self.signal(a, node, gated=False), self.signal(b, node, gated=False)
        if (sa is not None and sb is not None and _channel_axis(sa.shape) is not None
                and tuple(sa.shape) == tuple(sb.shape)):
            return _Gated(sa, sb)
        return None

    def op_div(self, node, args, kwargs):
        if len(args) != 2 or kwargs:
            return None
        a, b = args
        if _is_number(b) and b != 0 and isinstance(a, _Value):
            return self.scaled(a, 1.0 / float(b))
        return None

    def op_add(self, node, args, kwargs):
        if len(args) == 3 and not kwargs:
            args, kwargs = args[:2], {"alpha": args[2]}
        if len(args) != 2 or set(kwargs) - {"alpha"} or kwargs.get("alpha", 1) != 1:
            return None
        a, b = args
        for k, r in ((a, b), (b, a)):
            # rfft(k) + conj(rfft(k_rev)): Hyena's bidirectional filter.
            if (isinstance(k, _Spectrum) and isinstance(r, _Spectrum) and not k.conjugated and r.conjugated
                    and k.reverse is None and r.reverse is None and k.onesided == r.onesided
                    and k.n == r.n and k.lead == r.lead and len(k.sig.shape) == 2
                    and tuple(k.sig.shape[:1]) == tuple(r.sig.shape[:1])
                    and math.isclose(k.scale, r.scale, rel_tol=1e-9)):
                return dataclasses.replace(k, reverse=r.sig)
        for c, t in ((a, b), (b, a)):
            if isinstance(c, _Conv) and isinstance(t, _SkipTerm):
                if c.complex or not c.extensible:
                    return None
                conv = self.use_conv(c, node)
                if t.sig.key == conv.u.key:
                    return dataclasses.replace(conv, skip=t.d)
                return None
        return None

    # -- views, crops, casts ----------------------------------------------

    def crop(self, x, stop):
        if isinstance(x, _Conv) and x.skip is None and x.postgate is None:
            return dataclasses.replace(x, length=min(stop, x.length))
        if isinstance(x, _Product) and not x.onesided and stop == x.n // 2 + 1:
            return dataclasses.replace(x, onesided=True)  # irfft reads the first n // 2 + 1 bins
        return None

    def in_meta(self, node):
        return self.tensor_meta(node.args[0]) if node.args and isinstance(node.args[0], fx.Node) else None

    @staticmethod
    def expand(index, ndim):
        """A basic index as one entry per axis (Ellipsis expanded, missing
        trailing axes taken whole); None for None (new axes) or too many."""
        if not isinstance(index, tuple):
            index = (index,)
        if any(i is None for i in index) or sum(i is Ellipsis for i in index) > 1:
            return None
        if Ellipsis in index:
            at = index.index(Ellipsis)
            index = index[:at] + (slice(None),) * (ndim - (len(index) - 1)) + index[at + 1 :]
        if len(index) > ndim:
            return None
        return index + (slice(None),) * (ndim - len(index))

    def sliced(self, x, ranges, shape):
        """x[ranges] for (start, stop, step) per axis: the whole of x, or a
        crop of its last axis."""
        identity = [r == (0, size, 1) for r, size in zip(ranges, shape)]
        if all(identity):
            return x
        if all(identity[:-1]) and ranges[-1][0] == 0 and ranges[-1][2] == 1:
            return self.crop(x, ranges[-1][1])
        return None

    def op_getitem(self, node, args, kwargs):
        x, index = args
        source, out = self.in_meta(node), self.tensor_meta(node)
        if not isinstance(x, _Value) or source is None or out is None:
            return None
        if isinstance(x, _Leaf) and len(source.shape) == 1 and out.shape == (source.shape[0], 1):
            return _ChannelVec(x, tuple(out.shape))
        shape = source.shape
        index = self.expand(index, len(shape))
        if index is None:
            return None
        if isinstance(x, _RealView):  # view_as_real(y)[..., 0], possibly cropping too
            last = index[-1]
            if isinstance(last, bool) or last != 0:
                return None
            x, index, shape = dataclasses.replace(x.conv, complex=False), index[:-1], shape[:-1]
        if not all(isinstance(i, slice) for i in index):
            return None
        return self.sliced(x, [i.indices(size) for i, size in zip(index, shape)], shape)

    def op_slice(self, node, args, kwargs):
        bound = _bind(args, kwargs, ("x", "dim", "start", "end", "step"), {"dim": 0, "start": None, "end": None, "step": 1})
        source = self.in_meta(node)
        if bound is None or source is None:
            return None
        x, shape = bound["x"], source.shape
        dim = bound["dim"] % len(shape)
        ranges = [(0, size, 1) for size in shape]
        ranges[dim] = slice(bound["start"], bound["end"], bound["step"]).indices(shape[dim])
        if isinstance(x, _RealView):  # a crop of view_as_real(y) before its [..., 0]
            if ranges[-1] != (0, shape[-1], 1):
                return None
            conv = self.sliced(x.conv, ranges[:-1], shape[:-1])
            return None if conv is None else _RealView(conv)
        return self.sliced(x, ranges, shape)

    def op_view_as_real(self, node, args, kwargs):
        x = args[0] if len(args) == 1 and not kwargs else None
        if isinstance(x, _Conv) and x.complex:
            return _RealView(x)
        return None

    def op_select(self, node, args, kwargs):
        bound = _bind(args, kwargs, ("x", "dim", "index"), {})
        out = self.tensor_meta(node)
        if bound is None or out is None or not isinstance(bound["x"], _RealView):
            return None
        if bound["dim"] % (len(out.shape) + 1) == len(out.shape) and bound["index"] == 0:
            return dataclasses.replace(bound["x"].conv, complex=False)
        return None

    def op_real(self, node, args, kwargs):
        x = args[0] if len(args) == 1 and not kwargs else None
        if isinstance(x, _Conv) and x.complex:
            return dataclasses.replace(x, complex=False)
        if isinstance(x, (_Leaf, _Gated, _Conv, _SkipTerm, _ChannelVec)):
            return x  # .real of a real tensor is the tensor
        return None

    def op_getattr(self, node, args, kwargs):
        if len(args) == 2 and args[1] == "real":
            return self.op_real(node, args[:1], {})
        return None

    def op_identity(self, node, args, kwargs):
        x = args[0] if len(args) == 1 else None
        return x if isinstance(x, _Value) else None

    def op_cast(self, node, args, kwargs):
        x = args[0] if args else None
        source, out = self.in_meta(node), self.tensor_meta(node)
        if not isinstance(x, _Value) or source is None or out is None or source.shape != out.shape:
            return None
        src, dst = source.dtype, out.dtype
        if src == dst:
            return x
        if isinstance(x, (_Leaf, _Gated, _ChannelVec, _SkipTerm, _Padded)):
            return x if _widens_exactly(src, dst) else None
        if isinstance(x, (_Spectrum, _Product)):
            return x if src.is_complex and dst.is_complex and dst.itemsize >= src.itemsize else None
        if isinstance(x, _Conv) and not x.complex and not x.narrowed and src in (torch.float32, torch.float64):
            if dst in _NARROW:
                return dataclasses.replace(x, narrowed=True)
            if dst in (torch.float32, torch.float64):
                return x
        return None

    def op_reshape(self, node, args, kwargs):
        x = args[0] if args else None
        source, out = self.in_meta(node), self.tensor_meta(node)
        if not isinstance(x, _Value) or source is None or out is None:
            return None
        if source.shape == out.shape:
            return x
        ones = lambda shape: tuple(d for d in shape if d != 1)  # noqa: E731
        if ones(source.shape) != ones(out.shape):
            return None  # only axes of one element added or removed: views of the same layout
        if isinstance(x, (_Leaf, _ChannelVec)) and len(ones(out.shape)) <= 1:
            # One weight per channel (D), seen with the axes it broadcasts by.
            leaf = x.leaf if isinstance(x, _ChannelVec) else x
            return _ChannelVec(leaf, tuple(out.shape))
        if isinstance(x, _Spectrum) and tuple(out.shape[-1:]) == tuple(source.shape[-1:]):
            # k_f.unsqueeze(1): a kernel's spectrum set to broadcast over blocks.
            return dataclasses.replace(x, lead=tuple(out.shape[:-1]))
        return None

    def op_conj(self, node, args, kwargs):
        x = args[0] if len(args) == 1 and not kwargs else None
        if isinstance(x, _Spectrum) and x.reverse is None:
            return dataclasses.replace(x, conjugated=not x.conjugated)
        return None

    def padded(self, x, pad, value, node):
        if value not in (None, 0, 0.0) or not isinstance(pad, (list, tuple)) or len(pad) % 2:
            return None
        if not all(isinstance(p, int) for p in pad) or pad[0] != 0 or pad[1] < 0 or any(pad[2:]):
            return None
        if isinstance(x, _Padded):
            return _Padded(x.sig, x.length + pad[1])
        sig = self.signal(x, node)
        if sig is None:
            return None
        return _Padded(sig, sig.shape[-1] + pad[1])

    def op_pad(self, node, args, kwargs):
        bound = _bind(args, kwargs, ("input", "pad", "mode", "value"), {"mode": "constant", "value": None})
        if bound is None or bound["mode"] != "constant":
            return None
        return self.padded(bound["input"], bound["pad"], bound["value"], node)

    def op_pad_nd(self, node, args, kwargs):
        bound = _bind(args, kwargs, ("input", "pad", "value"), {"value": 0})
        if bound is None:
            return None
        return self.padded(bound["input"], bound["pad"], bound["value"], node)

    # -- transforms --------------------------------------------------------

    def spectrum(self, node, x, n, dim, onesided, scale_of):
        source = self.in_meta(node)
        if source is None or not isinstance(dim, int) or dim % len(source.shape) != len(source.shape) - 1:
            return None
        if isinstance(x, _Padded):
            sig, length = x.sig, x.length
        else:
            sig = self.signal(x, node)
            if sig is None:
                return None
            length = sig.shape[-1]
        n = length if n is None else n
        if not isinstance(n, int) or n < 1:
            return None
        out = self.tensor_meta(node)
        lead = tuple(out.shape[:-1]) if out is not None else tuple(sig.shape[:-1])
        return _Spectrum(sig, n, onesided, scale_of(n), node, lead)

    def inverse(self, node, x, n, dim, complex_out, scale):
        source = self.in_meta(node)
        if not isinstance(x, _Product) or source is None or not isinstance(dim, int):
            return None
        if dim % len(source.shape) != len(source.shape) - 1 or (complex_out and x.onesided):
            return None
        if n != x.n:
            raise ValueError(
                f"{self.where(node)}: inverse transform of size n = {n}, the forward transforms "
                f"have n = {x.n}"
            )
        us, ks = x.a, x.b
        if len(ks.sig.shape) > len(us.sig.shape):
            us, ks = ks, us
        u, k = us.sig, ks.sig
        what = f"{self.where(node)}: the convolution of {self.where(x.a.node)} and {self.where(x.b.node)}"
        axis = _channel_axis(u.shape)
        if axis is None:
            raise ValueError(f"{what}: u must be B x H x L (or multi-head B x G x H x Z x L), "
                             f"got shape {tuple(u.shape)}")
        if len(k.shape) != 2 or not isinstance(k, _Leaf):
            raise ValueError(f"{what}: k must be an H x K kernel (parameter, buffer or input), got shape {tuple(k.shape)}")
        channels, length = u.shape[axis], u.shape[-1]
        if k.shape[0] != channels:
            raise ValueError(f"{what}: k has {k.shape[0]} channels, u has H = {channels}")
        # k's spectrum must meet u's channel axis: (H, F) against B x H x L,
        # (H, 1, F) against B x G x H x Z x L (Hyena's k_f.unsqueeze(1)).
        expected = (channels,) + (1,) * (len(u.shape) - 1 - axis - 1)
        if tuple(ks.lead) != expected:
            raise ValueError(
                f"{what}: k's spectrum has shape {tuple(ks.lead) + ('F',)}, which does not broadcast "
                f"its {channels} channels onto u's channel axis {axis} of {tuple(u.shape)} (expected "
                f"{expected + ('F',)}{'; unsqueeze it: k_f.unsqueeze(1)' if len(u.shape) == 5 else ''})"
            )
        reverse = ks.reverse
        if reverse is not None and (not isinstance(reverse, _Leaf) or len(reverse.shape) != 2
                                    or reverse.shape[0] != channels):
            raise ValueError(f"{what}: the reverse kernel must be an H x K' kernel with H = {channels}, "
                             f"got shape {tuple(reverse.shape)}")
        for kernel, name in ((k, "kernel length K"), (reverse, "reverse kernel length K'")):
            if kernel is not None and kernel.shape[1] > length:
                raise ValueError(f"{what}: {name} = {kernel.shape[1]} exceeds the sequence length L = {length}")
        return _Conv(u, k, n, complex_out, x.scale * scale(n), n, node, reverse=ks.reverse)

    def op_rfft(self, node, args, kwargs):
        return self.torch_fft(node, args, kwargs, "rfft")

    def op_fft(self, node, args, kwargs):
        return self.torch_fft(node, args, kwargs, "fft")

    def op_irfft(self, node, args, kwargs):
        return self.torch_fft(node, args, kwargs, "irfft")

    def op_ifft(self, node, args, kwargs):
        return self.torch_fft(node, args, kwargs, "ifft")

    def torch_fft(self, node, args, kwargs, which):
        bound = _bind(args, kwargs, ("input", "n", "dim", "norm"), {"n": None, "dim": -1, "norm": None})
        if bound is None or bound["norm"] not in _FORWARD_SCALE:
            return None
        x, n, dim, norm = bound["input"], bound["n"], bound["dim"], bound["norm"]
        if which in ("rfft", "fft"):
            source = self.in_meta(node)
            if source is None or source.dtype.is_complex:
                return None
            return self.spectrum(node, x, n, dim, which == "rfft", _FORWARD_SCALE[norm])
        source = self.in_meta(node)
        if source is None:
            return None
        if n is None:
            n = 2 * (source.shape[-1] - 1) if which == "irfft" else source.shape[-1]
        return self.inverse(node, x, n, dim, which == "ifft", _INVERSE_SCALE[norm])

    def op_r2c(self, node, args, kwargs):
        bound = _bind(args, kwargs, ("x", "dim", "normalization", "onesided"), {})
        source = self.in_meta(node)
        if bound is None or source is None or len(bound["dim"]) != 1 or bound["normalization"] not in _ATEN_FORWARD_SCALE:
            return None
        n = source.shape[-1]
        return self.spectrum(node, bound["x"], n, bound["dim"][0], bool(bound["onesided"]),
                             _ATEN_FORWARD_SCALE[bound["normalization"]])

    def op_c2r(self, node, args, kwargs):
        bound = _bind(args, kwargs, ("x", "dim", "normalization", "last_dim_size"), {})
        if bound is None or len(bound["dim"]) != 1 or bound["normalization"] not in _ATEN_INVERSE_SCALE:
            return None
        return self.inverse(node, bound["x"], bound["last_dim_size"], bound["dim"][0], False,
                            _ATEN_INVERSE_SCALE[bound["normalization"]])

    def op_c2c(self, node, args, kwargs):
        bound = _bind(args, kwargs, ("x", "dim", "normalization", "forward"), {})
        source = self.in_meta(node)
        if bound is None or source is None or bound["forward"] or len(bound["dim"]) != 1:
            return None
        if bound["normalization"] not in _ATEN_INVERSE_SCALE:
            return None
        return self.inverse(node, bound["x"], source.shape[-1], bound["dim"][0], True,
                            _ATEN_INVERSE_SCALE[bound["normalization"]])


# ---------------------------------------------------------------------------
# Emission
# ---------------------------------------------------------------------------


def _identifier(name):
    name = re.sub(r"\W", "_", name) or "x"
    if not (name[0].isalpha() or name[0] == "_"):
        name = "_" + name
    if re.fullmatch(r"v\d+", name):  # the builder names its results v1, v2, ...
        name += "_"
    return name


class _Emitter:
    def __init__(self, graph, origins, order, where, boundaries=None):
        self.graph = graph
        self.origins = origins
        self.order = order
        self.where = where
        # Partial ingestion: a convolution read by another is an input of
        # the reader's graph (computed by its own), recorded here: one
        # fftconv.conv a graph, each one a kernel program on the GPU.
        self.boundaries = boundaries
        self.inputs = {}  # (leaf node, element) -> Value
        self.sources = {}
        self.names = set()
        self.convs = {}
        self.records = []

    def element_of(self, dtype, what):
        if dtype not in _ELEMENT:
            raise ValueError(f"{what}: element type {dtype} is not supported (float32, float16 or bfloat16)")
        return _ELEMENT[dtype]

    def leaf(self, leaf, element, shape=None):
        shape = tuple(leaf.shape) if shape is None else tuple(shape)
        key = (leaf.node, element, shape)
        if key in self.inputs:
            return self.inputs[key]
        stored = _ELEMENT.get(leaf.dtype)
        if (stored, element) not in _EXACT:
            raise ValueError(
                f"{leaf.node.name}: a {leaf.dtype} tensor used where the convolution needs {element} "
                f"({_TORCH_DTYPE[element]}); the graph would not hold its values exactly"
            )
        origin = self.origins.get(leaf.node)
        if origin is None:
            raise ValueError(f"{leaf.node.name}: an input the ingestion cannot map back to the module")
        kind, name, index = origin
        base = _identifier(name if kind != "constant" else leaf.node.name)
        if any(n == leaf.node for (n, _, _) in self.inputs):
            base = f"{base}_{element}"
        unique, count = base, 1
        while unique in self.names:
            count += 1
            unique = f"{base}_{count}"
        self.names.add(unique)
        value = self.graph.input(unique, shape, element)
        self.inputs[key] = value
        self.sources[unique] = Source(kind, name, index, tuple(leaf.shape), element, leaf.node.name)
        return value

    def signal(self, sig, element):
        if isinstance(sig, _Leaf):
            return self.leaf(sig, element)
        if self.boundaries is not None:
            self.boundaries.append(sig)
            self.origins.setdefault(sig.node, ("computed", sig.node.name, None))
            return self.leaf(_Leaf(sig.node, sig.shape, sig.dtype), element)
        value = self.conv(sig)
        if value.element != element:
            raise ValueError(
                f"{self.where(sig.node)}: a {value.element} convolution result used where {element} is needed"
            )
        return value

    def conv(self, c):
        key = c.key
        if key in self.convs:
            return self.convs[key]
        mode, problem = c.mode()
        if problem:  # pragma: no cover - checked when the value was used
            raise ValueError(f"{self.where(c.node)}: {problem}")
        element = self.element_of(c.dtype, self.where(c.node))
        pregate = None
        if isinstance(c.u, _Gated):
            u = self.signal(c.u.u, element)
            pregate = self.signal(c.u.gate, element)
        else:
            u = self.signal(c.u, element)
        k = self.leaf(c.k, "f32")
        reverse = None if c.reverse is None else self.leaf(c.reverse, "f32")
        postgate = None if c.postgate is None else self.signal(c.postgate, element)
        channels = k.shape[0]
        skip = None if c.skip is None else self.leaf(c.skip, "f32", shape=(channels,))  # H x 1 -> H
        value = self.graph.conv(u, k, causal=mode == "causal", pregate=pregate, postgate=postgate, skip=skip,
                                reverse=reverse)
        self.convs[key] = value
        nodes = tuple(n.name for n in sorted(c.nodes, key=self.order.__getitem__))
        self.records.append(Convolution(mode, c.n, tuple(u.shape), k.shape[1], element, pregate is not None,
                                        postgate is not None, skip is not None, nodes,
                                        None if reverse is None else reverse.shape[1]))
        return value


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def ingest(module, example_inputs, name="forward", tracer="auto", partial=False):
    """Traces `module` on `example_inputs` (a tuple of tensors) and returns
    an IngestResult whose graph computes the module's outputs with
    fftconv.conv ops.

    tracer: "auto" (symbolic_trace; make_fx when symbolic tracing fails or
    leaves nodes unrecognised), "symbolic_trace" or "make_fx".

    Raises UnsupportedPattern (a ValueError) listing every node that is not
    part of a recognised convolution, and ValueError naming the node when a
    recognised convolution has shapes fftconv.conv does not accept.

    partial=True ingests a whole layer (Hyena's operator, with its
    projections, short filter and implicit filter): every recognised
    convolution becomes a compiled graph of its own and everything else
    stays PyTorch code. The result's `compiled_module` runs the layer so,
    differentiably; `graphs` holds one graph per convolution, `skipped`
    the convolutions left to PyTorch and why."""
    if tracer not in ("auto", "symbolic_trace", "make_fx"):
        raise ValueError(f"ingest: tracer must be 'auto', 'symbolic_trace' or 'make_fx', got {tracer!r}")
    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    example_inputs = tuple(example_inputs)
    for i, x in enumerate(example_inputs):
        if not isinstance(x, torch.Tensor):
            raise ValueError(f"ingest: example input {i} must be a tensor, got {type(x).__name__}")
    if partial:
        traced = _trace_make_fx(module, example_inputs) if tracer == "make_fx" else None
        if traced is None:
            try:
                traced = _trace_symbolic(module, example_inputs)
            except Exception as error:  # noqa: BLE001 - any failure of symbolic tracing falls back
                if tracer == "symbolic_trace":
                    raise _symbolic_trace_failed(error) from error
                traced = _trace_make_fx(module, example_inputs)
        return _ingest_partial(module, traced, example_inputs, name)
    if tracer == "make_fx":
        return _ingest_traced(module, _trace_make_fx(module, example_inputs), example_inputs, name)
    try:
        traced = _trace_symbolic(module, example_inputs)
    except Exception as error:  # noqa: BLE001 - any failure of symbolic tracing falls back
        if tracer == "symbolic_trace":
            raise _symbolic_trace_failed(error) from error
        try:
            traced = _trace_make_fx(module, example_inputs)
        except Exception as second:
            raise ValueError(
                f"ingest: cannot trace the module: symbolic_trace failed ({error}), then make_fx ({second})"
            ) from second
        return _ingest_traced(module, traced, example_inputs, name)
    try:
        return _ingest_traced(module, traced, example_inputs, name)
    except UnsupportedPattern as unsupported:
        if tracer == "symbolic_trace":
            raise
        # Symbolic tracing folds what it cannot see (operations on plain
        # tensor attributes, for one); make_fx records them.
        try:
            return _ingest_traced(module, _trace_make_fx(module, example_inputs), example_inputs, name)
        except Exception:  # noqa: BLE001 - the first report names the source's own nodes
            raise unsupported from None


def _symbolic_trace_failed(error):
    """symbolic_trace's own failure (often a TypeError deep in fx), said as
    what it means for the user."""
    return ValueError(
        f"ingest: torch.fx.symbolic_trace cannot trace this module ({type(error).__name__}: {error}); "
        f"shape-dependent Python (iterating a tensor, len(u.shape), n=2 * u.shape[-1]) needs "
        f"tracer='make_fx' (or 'auto', which falls back to it)"
    )


class _PartitionedModule(torch.nn.Module):
    """A module whose recognised convolutions run compiled (each a
    fftconv.torch.CompiledGraph submodule of `graph_module`) and whose other
    nodes are its own PyTorch code, traced. It reads the original module's
    parameters and buffers at every call, so training it trains them."""

    def __init__(self, module, graph_module, tracer):
        super().__init__()
        self.graph_module = graph_module
        self._tracer = tracer
        object.__setattr__(self, "_source", module)  # not a submodule: its parameters are not ours twice

    def forward(self, *inputs):
        if self._tracer == "make_fx":
            state = dict(self._source.named_parameters())
            state.update(self._source.named_buffers())
            return self.graph_module(state, *inputs)
        return self.graph_module(*inputs)


def _ingest_partial(module, traced, example_inputs, name):
    from .torch import CompiledGraph

    gm, origins = traced.gm, dict(traced.origins)
    order = {node: i for i, node in enumerate(gm.graph.nodes)}
    interp = _Interpreter(gm, traced.meta, partial=True)
    interp.run()
    output = next(n for n in gm.graph.nodes if n.op == "output")
    for node in output.all_input_nodes:
        interp.root(node, output)
    for node in interp.computed:
        origins[node] = ("computed", node.name, None)

    graphs, convolutions, compiled = [], [], {}
    roots = list(interp.roots)
    while roots:
        root, conv = roots.pop(0)
        if conv.key not in compiled:
            graph = Graph(f"{name}_conv{len(graphs)}")
            boundaries = []
            emitter = _Emitter(graph, origins, order, interp.where, boundaries)
            try:
                graph.output(emitter.conv(conv))
            except ValueError as error:
                interp.skipped.append((root, str(error)))
                continue
            leaves = {value.name: node for (node, _, _), value in emitter.inputs.items()}
            graph.inputs.sort(key=lambda v: order[leaves[v.name]])
            submodule = f"fftconv_{len(graphs)}"
            gm.add_submodule(submodule, CompiledGraph(graph))
            compiled[conv.key] = (submodule, tuple(leaves[v.name] for v in graph.inputs))
            graphs.append(graph)
            convolutions.extend(emitter.records)
            roots.extend((inner.node, inner) for inner in boundaries)
        submodule, args = compiled[conv.key]
        with gm.graph.inserting_before(root):
            call = gm.graph.call_module(submodule, args)
        root.replace_all_uses_with(call)
    # The nodes each compiled graph replaces are now dead.
    gm.graph.eliminate_dead_code()
    gm.graph.lint()
    gm.recompile()
    skipped = [(node.name, reason) for node, reason in interp.skipped]
    result = IngestResult(module, None, {}, convolutions, gm, traced.tracer, len(example_inputs), traced.constants)
    result.graphs, result.skipped = graphs, skipped
    result.compiled_module = _PartitionedModule(module, gm, traced.tracer)
    return result


def _ingest_traced(module, traced, example_inputs, name):
    gm, meta, origins, constants = traced.gm, traced.meta, traced.origins, traced.constants
    order = {node: i for i, node in enumerate(gm.graph.nodes)}
    interp = _Interpreter(gm, meta)
    interp.run()

    # The outputs, flattened as torch.utils._pytree flattens the module's.
    output = next(n for n in gm.graph.nodes if n.op == "output")
    outputs = list(_Interpreter.flat(output.args[0]))
    emitted, consumed = [], set()
    for out in outputs:
        value = interp.values.get(out) if isinstance(out, fx.Node) else None
        value = interp.as_value(value, output) if isinstance(value, _Value) else None
        if value is not None:
            consumed |= value.nodes
        emitted.append(value)
    for conv in interp.used:
        consumed |= conv.nodes

    # Shape and dtype queries (u.shape[-1] * 2, k.dtype) are metadata, not
    # computations: they are never listed.
    unrecognised = [n for n in gm.graph.nodes
                    if n.op in ("call_function", "call_method", "call_module")
                    and n not in consumed and n not in interp.static]
    if unrecognised:
        listed = ", ".join(_describe(n, gm) for n in unrecognised)
        raise UnsupportedPattern(
            f"unrecognised nodes: {listed} (every node must belong to a recognised FFT convolution: "
            f"rfft/fft of u and k, their product, irfft/ifft, a crop to L, a skip term u * D.unsqueeze(-1), gates; "
            f"ingest(..., partial=True) keeps such nodes as PyTorch code and compiles the convolutions)",
            [(n.name, _target_name(n, gm)) for n in unrecognised],
        )
    bad = [i for i, v in enumerate(emitted) if v is None]
    if bad:
        raise UnsupportedPattern(f"outputs {bad} are not tensors computed by recognised convolutions")

    graph = Graph(name)
    emitter = _Emitter(graph, origins, order, interp.where)
    for value in emitted:
        if isinstance(value, _Leaf):
            graph.output(emitter.leaf(value, emitter.element_of(value.dtype, value.node.name)))
        else:
            graph.output(emitter.conv(value))
    # Inputs in the module's order: forward arguments, then parameters.
    keyed = {v.name: (emitter.sources[v.name].kind != "input", order[n]) for (n, _, _), v in emitter.inputs.items()}
    graph.inputs.sort(key=lambda v: keyed[v.name])
    sources = {v.name: emitter.sources[v.name] for v in graph.inputs}
    by_name = {node.name: i for node, i in order.items()}
    convolutions = sorted(emitter.records, key=lambda c: by_name[c.nodes[-1]])
    return IngestResult(module, graph, sources, convolutions, gm, traced.tracer, len(example_inputs), constants)
