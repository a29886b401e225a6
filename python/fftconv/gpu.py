"""Compile fftconv programs for the GPU: PTX plus the launch manifest.

    import fftconv
    program = fftconv.compile(graph, target="sm_90")   # a Graph or MLIR text
    program.ptx            # the PTX text (both kernels: k_f and the convolution)
    program.manifest       # dict: buffers, kernels, grids, shared memory
    program.save("out/hyena")  # out/hyena.ptx + out/hyena.json

Compilation runs fftconv-compile (fftconv-to-ptx; docs/gpu-manifest.md) and
needs the project's build; running the result needs only the runtime
(fftconv.runtime.Program.load(program.ptx, program.manifest)), on a machine
with a GPU and no MLIR.
"""

import json
import os
import subprocess
import tempfile

from .cpu import ExecutionError, REPO_ROOT

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


def _tool():
    build = os.environ.get("FFTCONV_BUILD_DIR", os.path.join(REPO_ROOT, "build"))
    path = os.environ.get("FFTCONV_COMPILE", os.path.join(build, "bin", "fftconv-compile"))
    if not os.path.exists(path):
        raise ExecutionError(f"fftconv-compile not found at {path}: build the project first")
    return path


def compile(program, target="sm_90", order="auto"):
    """Compiles a Graph, a fftconv.Module (rewritten in place) or the MLIR
    text of one function of fftconv ops to PTX for `target` (sm_80 or
    sm_90). A Module goes through the bindings (the C API's
    fftconvCompileToPTX, raising MLIRError); text and graphs through
    fftconv-compile (raising ExecutionError). Both errors carry the
    compiler's located diagnostics."""
    if target not in TARGETS:
        raise ValueError(f"compile: target must be one of {TARGETS}, got {target!r}")
    if hasattr(program, "compile_to_ptx"):
        ptx, manifest = program.compile_to_ptx(chip=target, order=order)
        return GPUProgram(ptx, json.loads(manifest))
    text = program if isinstance(program, str) else program.mlir(named=True)
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "program.mlir")
        with open(source, "w") as f:
            f.write(text)
        stem = os.path.join(tmp, "program")
        proc = subprocess.run(
            [_tool(), source, "-o", stem, f"--chip={target}", f"--order={order}"],
            capture_output=True, text=True,
        )
        if proc.returncode != 0:
            raise ExecutionError(f"fftconv-compile failed:\n{proc.stderr.strip()}")
        with open(stem + ".ptx") as f:
            ptx = f.read()
        with open(stem + ".json") as f:
            manifest = json.load(f)
    return GPUProgram(ptx, manifest)
