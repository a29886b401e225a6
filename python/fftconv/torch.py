"""A drop-in for FlashFFTConv's module, compiled by fftconv-mlir.

    from fftconv.torch import FFTConv
    conv = FFTConv(seqlen=2048, dtype=torch.float16)   # causal for L <= 1024
    y = conv(u, k)                                      # u: B x H x L, k: H x K (f32)
    y = conv(u, k, pregate=x1, postgate=x2)            # postgate * ((pregate * u) * k)

Training: FFTConv is differentiable (a torch.autograd.Function). The
forward keeps only u, k and the gates (no spectra: the backward recomputes
them). The backward runs the gradient program the compiler derives from the
forward (fftconv-derive-backward), compiled once per configuration and
cached like the forward: on the CPU in this process, on CUDA tensors as GPU
kernels (fftconv.compile(training=True): the correlation for du and dpre,
the postgate's convolution, the kernel gradient's cross spectrum and
inverse), in the single-kernel form up to N = 32K and the three-pass form
past it. Should the compiler refuse a configuration's backward that its
forward runs, the CUDA backward falls back to an INTERIM one, torch.fft in
float32 on the GPU (correct, not fast). `last_backward` says which ran
last: "compiled", "interim" or "cpu".

As in FlashFFTConv, `seqlen` is the FFT size: `seqlen >= L + K - 1` gives
the causal (linear) convolution cropped to L, `seqlen == L` the circular
one. Each configuration (shapes, dtype, gates, device) is compiled once and
cached: CPU tensors through fftconv-to-butterfly and fftconv-to-cpu into
code JIT-compiled in this process (fftconv.native), CUDA tensors through
fftconv-to-ptx into PTX launched by fftconv.runtime. The
PTX and manifest are also kept on disk (FFTCONV_KERNEL_CACHE, default
~/.cache/fftconv-mlir), so a GPU machine without MLIR runs configurations
compiled elsewhere and copied into that folder.
"""

import hashlib
import os

import numpy as np
import torch

from . import dtypes
from .graph import Graph
from .native import CompiledBackward, CompiledFunction

_ELEMENT = {dtype: element for element, dtype in dtypes.torch_dtypes().items()}


def _to_numpy(tensor):
    tensor = tensor.detach().contiguous()
    if tensor.dtype == torch.bfloat16:
        return tensor.view(torch.int16).numpy().view(np.uint16)
    return tensor.numpy()


def _from_numpy(array, dtype):
    if dtype == torch.bfloat16:
        return torch.from_numpy(array.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(array)


def conv_mode(seqlen, length, taps):
    """How FlashFFTConv reads `seqlen`, the FFT size, for L = `length` and
    K = `taps`: True (causal: seqlen >= L + K - 1), False (circular:
    seqlen == L), None (neither)."""
    if seqlen >= length + taps - 1:
        return True
    if seqlen == length:
        return False
    return None


def conv_graph(name, element, batch, channels, length, taps, causal, gated_pre=False, gated_post=False):
    """The graph of FFTConv's call (and fftconv.distributed's): u [B, H, L]
    of `element`, k [H, taps] f32, the gates when given; y."""
    g = Graph(name)
    u = g.input("u", (batch, channels, length), element)
    k = g.input("k", (channels, taps), "f32")
    pre = g.input("pregate", (batch, channels, length), element) if gated_pre else None
    post = g.input("postgate", (batch, channels, length), element) if gated_post else None
    g.output(g.conv(u, k, causal=causal, pregate=pre, postgate=post))
    return g


def kernel_cache_stem(graph, target, **options):
    """Where the PTX and manifest of a graph are cached (without suffix),
    keyed by the graph's signature and the compile options that change the
    program (a sharded rank's `ranks` and `rank`) (no MLIR needed: a GPU
    machine finds kernels compiled elsewhere)."""
    key = graph.signature() if hasattr(graph, "signature") else str(graph)
    folder = target
    if options:
        key += repr(sorted(options.items()))
        folder += "-" + "-".join(f"{name}{value}" for name, value in sorted(options.items()))
    digest = hashlib.sha256((target + key).encode()).hexdigest()[:16]
    cache = os.environ.get("FFTCONV_KERNEL_CACHE",
                           os.path.join(os.path.expanduser("~"), ".cache", "fftconv-mlir"))
    return os.path.join(cache, f"{folder}-{digest}", "kernel")


def gpu_programs(graph, device, **options):
    """(forward, backward) runtime programs of `graph` on CUDA `device`,
    from the kernel cache or compiled into it with `options` (those of
    fftconv.compile; training=True where the compiler has a GPU backward;
    backward None where it has not)."""
    from . import gpu, runtime

    major, _ = torch.cuda.get_device_capability(device)
    target = "sm_90" if major >= 9 else "sm_80"
    stem = kernel_cache_stem(graph, target, **options)
    if not os.path.exists(stem + ".json"):
        try:
            try:
                program = gpu.compile(graph, target=target, training=True, **options)
            except Exception:
                # No GPU backward for this size: the forward alone.
                program = gpu.compile(graph, target=target, **options)
            program.save(stem)
        except Exception as error:
            raise RuntimeError(
                f"no compiled kernel for graph {graph.name!r} in {os.path.dirname(stem)} "
                f"and compiling one failed (the compiler needs the project's build): {error}"
            ) from error
    forward = runtime.Program.load(manifest=stem + ".json", device=device)
    return forward, gpu.load_backward(stem + ".json", device=device)


class FFTConv(torch.nn.Module):
    def __init__(self, seqlen, dtype=torch.float16):
        super().__init__()
        if dtype not in _ELEMENT:
            raise ValueError(f"FFTConv: dtype must be float32, float16 or bfloat16, got {dtype}")
        if int(seqlen) < 1:
            raise ValueError(f"FFTConv: seqlen must be positive, got {seqlen}")
        self.seqlen = int(seqlen)
        self.dtype = dtype
        self._compiled = {}
        self.last_backward = None

    def _function(self, batch, channels, length, taps, causal, gated_pre, gated_post):
        key = (batch, channels, length, taps, causal, gated_pre, gated_post)
        if key not in self._compiled:
            self._compiled[key] = CompiledFunction(self._graph(*key))
        return self._compiled[key]

    def _graph(self, batch, channels, length, taps, causal, gated_pre, gated_post):
        return conv_graph("fftconv_module", _ELEMENT[self.dtype], batch, channels, length, taps, causal,
                          gated_pre, gated_post)

    def _gpu_program(self, device, *config):
        """(forward, backward) runtime programs of a configuration; backward
        None where the compiler has no GPU backward for it."""
        key = ("cuda", device.index) + config
        if key not in self._compiled:
            try:
                self._compiled[key] = gpu_programs(self._graph(*config), device)
            except RuntimeError as error:
                raise RuntimeError(f"FFTConv: configuration {config}: {error}") from error
        return self._compiled[key]

    def forward(self, u, k, pregate=None, postgate=None):
        config = self._config(u, k, pregate, postgate)
        return _FFTConvFunction.apply(self, config, u, k, pregate, postgate)

    def _backward(self, config, u, k, pregate, postgate, dy, wanted):
        """{name: gradient} for the inputs named in `wanted` (u, k,
        pregate, postgate): the compiled gradient program on the CPU
        (derived for exactly those gradients), the interim torch.fft
        backward on CUDA."""
        if u.is_cuda:
            _, program = self._gpu_program(u.device, *config)
            if program is not None:
                inputs = [u.contiguous(), k.to(torch.float32).contiguous()]
                inputs += [g.contiguous() for g in (pregate, postgate) if g is not None]
                inputs.append(dy.to(self.dtype).contiguous())
                grads = program.launch(inputs)
                names = ["u", "k"] + [n for n, g in (("pregate", pregate), ("postgate", postgate)) if g is not None]
                self.last_backward = "compiled"
                return {name: grad for name, grad in zip(names, grads) if name in wanted}
            grads = interim_cuda_backward(self.seqlen, config[4], u, k, pregate, postgate, dy)
            self.last_backward = "interim"
            return {name: grad for name, grad in zip(("u", "k", "pregate", "postgate"), grads) if name in wanted}
        self.last_backward = "cpu"
        key = ("backward", wanted) + config
        if key not in self._compiled:
            try:
                self._compiled[key] = CompiledBackward(self._graph(*config), wrt=wanted)
            except Exception as error:
                raise RuntimeError(f"FFTConv: compiling the backward of configuration {config} failed: {error}") from error
        arrays = [_to_numpy(u), _to_numpy(k.to(torch.float32))]
        arrays += [_to_numpy(g) for g in (pregate, postgate) if g is not None]
        arrays.append(_to_numpy(dy.to(self.dtype)))
        grads = self._compiled[key](*arrays)
        return {name: _from_numpy(grad, torch.float32 if name == "k" else self.dtype)
                for name, grad in zip(wanted, grads)}

    def _config(self, u, k, pregate, postgate):
        if u.dim() != 3 or u.dtype != self.dtype:
            raise ValueError(f"FFTConv: u must be B x H x L of {self.dtype}, got {tuple(u.shape)} {u.dtype}")
        batch, channels, length = u.shape
        if k.dim() != 2 or k.shape[0] != channels:
            raise ValueError(f"FFTConv: k must be H x K with H = {channels}, got {tuple(k.shape)}")
        taps = k.shape[1]
        if taps > length:
            raise ValueError(f"FFTConv: kernel length K = {taps} exceeds the sequence length L = {length}")
        causal = conv_mode(self.seqlen, length, taps)
        if causal is None:
            raise ValueError(
                f"FFTConv(seqlen={self.seqlen}): with L = {length} and K = {taps} the FFT size must be "
                f">= L + K - 1 = {length + taps - 1} (causal) or == L (circular)"
            )
        for name, gate in (("pregate", pregate), ("postgate", postgate)):
            if gate is not None and (gate.shape != u.shape or gate.dtype != u.dtype):
                raise ValueError(f"FFTConv: {name} must match u ({tuple(u.shape)} {u.dtype})")
        return (batch, channels, length, taps, causal, pregate is not None, postgate is not None)

    def _forward(self, config, u, k, pregate, postgate):
        if u.is_cuda:
            for name, t in (("k", k), ("pregate", pregate), ("postgate", postgate)):
                if t is not None and t.device != u.device:
                    raise ValueError(f"FFTConv: {name} is on {t.device}, u on {u.device}")
            program, _ = self._gpu_program(u.device, *config)
            inputs = [u.contiguous(), k.to(torch.float32).contiguous()]
            inputs += [g.contiguous() for g in (pregate, postgate) if g is not None]
            return program.launch(inputs)
        function = self._function(*config)
        arrays = [_to_numpy(u), _to_numpy(k.to(torch.float32))]
        arrays += [_to_numpy(g) for g in (pregate, postgate) if g is not None]
        return _from_numpy(function(*arrays), self.dtype)


class _FFTConvFunction(torch.autograd.Function):
    """y = FFTConv(u, k, pregate, postgate) with its gradients. Saves only
    the inputs (u, k, the gates): the backward recomputes every spectrum."""

    @staticmethod
    def forward(ctx, module, config, u, k, pregate, postgate):
        ctx.module, ctx.config = module, config
        ctx.save_for_backward(u, k, pregate, postgate)
        return module._forward(config, u, k, pregate, postgate)

    @staticmethod
    def backward(ctx, dy):
        u, k, pregate, postgate = ctx.saved_tensors
        names = ("u", "k", "pregate", "postgate")
        # Only the gradients autograd asks for are computed.
        wanted = tuple(name for name, needed in zip(names, ctx.needs_input_grad[2:]) if needed)
        if not wanted:
            return (None,) * 6
        grads = ctx.module._backward(ctx.config, u, k, pregate, postgate, dy.contiguous(), wanted)
        if "k" in grads:
            grads["k"] = grads["k"].to(k.dtype)
        return (None, None) + tuple(grads.get(name) for name in names)


def interim_cuda_backward(seqlen, causal, u, k, pregate, postgate, dy):
    """INTERIM GPU backward (for a configuration whose backward the
    compiler refuses while it runs the forward): the
    gradients of y = postgate * ((pregate * u) * k) with torch.fft in float32
    on u's device, the spectral form of design.md's "Training: the
    gradients". FFT size: `seqlen` (>= L + K - 1, zero padding, causal) or L
    (circular). Returns (du, dk, dpregate, dpostgate), du and the gate
    gradients in u's dtype, dk in float32; None for absent gates."""
    length, taps = u.shape[-1], k.shape[-1]
    n = seqlen if causal else length
    v = u.float() * pregate.float() if pregate is not None else u.float()
    g = dy.float() * postgate.float() if postgate is not None else dy.float()
    kf = torch.fft.rfft(k.float(), n=n)
    gf = torch.fft.rfft(g, n=n)
    vf = torch.fft.rfft(v, n=n)
    # The correlation with k (the adjoint of the convolution): conj(K_f).
    dv = torch.fft.irfft(gf * kf.conj(), n=n)[..., :length]
    # The batch-reduced cross spectrum: one inverse per channel.
    dk = torch.fft.irfft((vf.conj() * gf).sum(0), n=n)[..., :taps]
    du = (dv * pregate.float() if pregate is not None else dv).to(u.dtype)
    dpre = (dv * u.float()).to(u.dtype) if pregate is not None else None
    dpost = None
    if postgate is not None:
        z = torch.fft.irfft(vf * kf, n=n)[..., :length]
        dpost = (dy.float() * z).to(u.dtype)
    return du, dk, dpre, dpost


class CompiledGraph(torch.nn.Module):
    """A graph of one output (fftconv.graph.Graph) as a differentiable
    torch module: call it with one tensor per graph input, in order (each
    reshaped to its input's shape when the element counts agree, D of
    1 x H x 1 x 1 as H, and converted to its element type: only exact
    widenings are expected). CPU tensors run the graph compiled in this
    process; CUDA tensors its GPU kernels. The backward runs the gradient
    program the compiler derives (fftconv-derive-backward), on the CPU for
    just the gradients autograd asks for, on the GPU all of them.
    `fftconv.ingest.ingest(..., partial=True)` builds one per convolution."""

    def __init__(self, graph):
        super().__init__()
        if len(graph.outputs) != 1:
            raise ValueError(f"CompiledGraph: graph {graph.name!r} must have one output, has {len(graph.outputs)}")
        self.graph = graph
        self._cpu = {}
        self._gpu = {}

    def _dtype(self, value):
        return dtypes.torch_dtypes()[value.element]

    def _inputs(self, tensors):
        if len(tensors) != len(self.graph.inputs):
            raise ValueError(f"CompiledGraph {self.graph.name!r}: expected {len(self.graph.inputs)} tensors "
                             f"({[v.name for v in self.graph.inputs]}), got {len(tensors)}")
        prepared = []
        for tensor, value in zip(tensors, self.graph.inputs):
            if tensor.numel() != int(np.prod(value.shape)):
                raise ValueError(f"CompiledGraph {self.graph.name!r}: input {value.name!r} has shape "
                                 f"{tuple(tensor.shape)}, the graph {value.shape}")
            prepared.append(tensor.to(self._dtype(value)).reshape(value.shape).contiguous())
        return prepared

    def forward(self, *tensors):
        return _CompiledGraphFunction.apply(self, *tensors)

    def _gpu_programs(self, device):
        if device.index not in self._gpu:
            self._gpu[device.index] = gpu_programs(self.graph, device)
        return self._gpu[device.index]

    def _run(self, inputs):
        output = self.graph.outputs[0]
        if inputs[0].is_cuda:
            program, _ = self._gpu_programs(inputs[0].device)
            return program.launch(inputs)
        if "forward" not in self._cpu:
            self._cpu["forward"] = CompiledFunction(self.graph)
        return _from_numpy(self._cpu["forward"](*[_to_numpy(t) for t in inputs]), self._dtype(output))

    def _gradients(self, inputs, dy, wanted):
        """The gradients of the inputs whose indices are in `wanted`."""
        output = self.graph.outputs[0]
        dy = dy.to(self._dtype(output)).reshape(output.shape).contiguous()
        if dy.is_cuda:
            _, program = self._gpu_programs(dy.device)
            if program is None:
                raise RuntimeError(f"CompiledGraph {self.graph.name!r}: the compiler has no GPU backward for "
                                   f"this graph")
            grads = program.launch(list(inputs) + [dy])
            grads = grads if isinstance(grads, (list, tuple)) else [grads]
            return {i: grads[i] for i in wanted}
        names = tuple(self.graph.inputs[i].name for i in wanted)
        if names not in self._cpu:
            self._cpu[names] = CompiledBackward(self.graph, wrt=names)
        grads = self._cpu[names](*[_to_numpy(t) for t in inputs], _to_numpy(dy))
        grads = grads if isinstance(grads, (list, tuple)) else [grads]
        return {i: _from_numpy(g, self._dtype(self.graph.inputs[i])) for i, g in zip(wanted, grads)}


class _CompiledGraphFunction(torch.autograd.Function):
    """CompiledGraph's call: saves only its inputs (the backward recomputes
    every spectrum)."""

    @staticmethod
    def forward(ctx, module, *tensors):
        inputs = module._inputs(tensors)
        ctx.module = module
        ctx.shapes = [(t.shape, t.dtype) for t in tensors]
        ctx.save_for_backward(*inputs)
        return module._run(inputs)

    @staticmethod
    def backward(ctx, dy):
        inputs = ctx.saved_tensors
        wanted = [i for i, needed in enumerate(ctx.needs_input_grad[1:]) if needed]
        if not wanted:
            return (None,) * (1 + len(inputs))
        grads = ctx.module._gradients(list(inputs), dy, wanted)
        result = [None]
        for i, (shape, dtype) in enumerate(ctx.shapes):
            result.append(grads[i].reshape(shape).to(dtype) if i in grads else None)
        return tuple(result)
