"""Compile fftconv programs for the GPU: PTX plus the launch manifest.

    import fftconv
    program = fftconv.compile(graph, target="sm_90")   # a Graph or MLIR text
    program.ptx            # the PTX text (both kernels: k_f and the convolution)
    program.manifest       # dict: buffers, kernels, grids, shared memory
    program.save("out/hyena")  # out/hyena.ptx + out/hyena.json

Compilation runs fftconv-to-ptx (docs/gpu-manifest.md) in this process
through the bindings and needs the project's build; running the result
needs only the runtime
(fftconv.runtime.Program.load(program.ptx, program.manifest)), on a machine
with a GPU and no MLIR.
"""

import json
import os

TARGETS = ("sm_80", "sm_90", "sm_90a")


class GPUProgram:
    """A compiled program: PTX text and its manifest (a dict)."""

    def __init__(self, ptx, manifest):
        self.ptx, self.manifest = ptx, manifest

    def save(self, stem):
        """Writes <stem>.ptx and <stem>.json (the manifest naming the PTX)."""
        os.makedirs(os.path.dirname(os.path.abspath(stem)), exist_ok=True)
        manifest = dict(self.manifest, ptx=os.path.basename(stem) + ".ptx")
        with open(stem + ".ptx", "w") as f:
            f.write(self.ptx)
        with open(stem + ".json", "w") as f:
            json.dump(manifest, f, indent=2)
        return stem + ".json"

    def __repr__(self):
        kernels = ", ".join(k["name"] for k in self.manifest["kernels"])
        return f"GPUProgram({self.manifest['entry']} for {self.manifest['chip']}: {kernels})"


class TrainingProgram:
    """A forward program and its backward (the gradient function the
    compiler derives from the forward, fftconv-derive-backward), compiled
    for the same chip. Saved as one manifest: the forward's, with the
    backward's manifest under "backward" (its PTX in <stem>.backward.ptx).
    The backward takes the forward's inputs, then dy; it returns one
    gradient per input, in order."""

    def __init__(self, forward, backward):
        self.forward, self.backward = forward, backward

    @property
    def manifest(self):
        return dict(self.forward.manifest, backward=self.backward.manifest)

    def save(self, stem):
        """Writes <stem>.ptx, <stem>.backward.ptx and <stem>.json."""
        os.makedirs(os.path.dirname(os.path.abspath(stem)), exist_ok=True)
        base = os.path.basename(stem)
        with open(stem + ".ptx", "w") as f:
            f.write(self.forward.ptx)
        with open(stem + ".backward.ptx", "w") as f:
            f.write(self.backward.ptx)
        manifest = dict(self.forward.manifest, ptx=base + ".ptx",
                        backward=dict(self.backward.manifest, ptx=base + ".backward.ptx"))
        with open(stem + ".json", "w") as f:
            json.dump(manifest, f, indent=2)
        return stem + ".json"

    def __repr__(self):
        return f"TrainingProgram(forward={self.forward!r}, backward={self.backward!r})"


def load_backward(manifest_path, device=None):
    """The backward program a training manifest (TrainingProgram.save)
    holds, loaded on `device` with fftconv.runtime; None when the manifest
    has no backward."""
    from . import runtime

    with open(manifest_path) as f:
        manifest = json.load(f)
    backward = manifest.get("backward")
    if backward is None:
        return None
    ptx = os.path.join(os.path.dirname(os.path.abspath(manifest_path)), backward["ptx"])
    return runtime.Program.load(ptx=ptx, manifest=backward, device=device)


def compile(program, target="sm_90", order="auto", training=False, **options):
    """Compiles a Graph, a fftconv.Module (rewritten in place) or the MLIR
    text of one function of fftconv ops to PTX for `target` (sm_80,
    sm_90, or sm_90a: the warpgroup MMA for the single kernel's last stage
    at 2K and 4K points, more accurate and, measured, slower), in this process through the bindings (the C API's
    fftconvCompileToPTX). Errors raise fftconv.MLIRError with the
    compiler's located diagnostics: at the graph node that made the op for
    a Graph, at "program.mlir":line:column for text. `options` are the
    other options of fftconv-to-ptx (precision, threads, batch_tile,
    single_kernel_max, three_pass_cluster; fftconv.compile_options_default()
    has their defaults).

    `training=True` (a Graph only) also derives the graph's backward
    (fftconv-derive-backward: du, dk, the gate and skip gradients) and
    compiles it with the same pipeline and options: a TrainingProgram
    (the single-kernel form up to `single_kernel_max`, the three-pass form
    past it, as the forward). Sharded (`ranks`), the forward takes the
    backward's rows (`max_row_length`) where the backward's kernel gradient
    takes shorter ones (past 2^22 points), so that both read one layout."""
    if target not in TARGETS:
        raise ValueError(f"compile: target must be one of {TARGETS}, got {target!r}")
    from .cpu import default_context

    if training:
        if not hasattr(program, "backward_module"):
            raise TypeError("compile(training=True) needs a fftconv.Graph: its backward is derived from "
                            f"the graph, got {type(program).__name__}")
        module = program.backward_module(default_context(), keep_forward=False)
        ptx, manifest = module.compile_to_ptx(chip=target, order=order, **options)
        backward = GPUProgram(ptx, json.loads(manifest))
        shard = backward.manifest.get("shard")
        if shard and not options.get("max_row_length"):
            options = dict(options, max_row_length=shard["row_length"])
        forward = compile(program, target, order, **options)
        return TrainingProgram(forward, backward)
    if isinstance(program, str):
        from . import Module

        module = Module.parse(default_context(), program, "program.mlir")
    elif hasattr(program, "compile_to_ptx"):
        module = program
    else:
        module = program.module(default_context(), named=True)
    ptx, manifest = module.compile_to_ptx(chip=target, order=order, **options)
    return GPUProgram(ptx, json.loads(manifest))
