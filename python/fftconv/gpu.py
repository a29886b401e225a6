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

TARGETS = ("sm_80", "sm_90")


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


def compile(program, target="sm_90", order="auto", training=False, **options):
    """Compiles a Graph, a fftconv.Module (rewritten in place) or the MLIR
    text of one function of fftconv ops to PTX for `target` (sm_80 or
    sm_90), in this process through the bindings (the C API's
    fftconvCompileToPTX). Errors raise fftconv.MLIRError with the
    compiler's located diagnostics: at the graph node that made the op for
    a Graph, at "program.mlir":line:column for text. `options` are the
    other options of fftconv-to-ptx (precision, threads, batch_tile,
    single_kernel_max; fftconv.compile_options_default() has their
    defaults). `training=True` (forward and backward programs in one
    manifest) is not available yet: there are no GPU backward kernels;
    the backward runs on the CPU (fftconv.native.CompiledBackward) or, for
    fftconv.torch.FFTConv on CUDA tensors, as the interim torch.fft
    backward."""
    if training:
        raise NotImplementedError(
            "compile(training=True): the GPU backward kernels do not exist yet; use "
            "fftconv.native.CompiledBackward (CPU) or fftconv.torch.FFTConv, whose CUDA "
            "backward is an interim torch.fft implementation")
    if target not in TARGETS:
        raise ValueError(f"compile: target must be one of {TARGETS}, got {target!r}")
    from .cpu import default_context

    if isinstance(program, str):
        from . import Module

        module = Module.parse(default_context(), program, "program.mlir")
    elif hasattr(program, "compile_to_ptx"):
        module = program
    else:
        module = program.module(default_context(), named=True)
    ptx, manifest = module.compile_to_ptx(chip=target, order=order, **options)
    return GPUProgram(ptx, json.loads(manifest))
