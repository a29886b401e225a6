"""Execute fftconv/butterfly programs on the CPU: fftconv-opt's
`fftconv-to-cpu` pipeline, then mlir-runner.

A `Program` passes numpy inputs, embedded bit-exactly as hex dense constants
in @main, as arguments to the compiled @program (so the compiler cannot fold
them away), and prints each result as the bit patterns of its f32 values
(complex results as two tensors, real and imaginary parts), so nothing is
lost to decimal printing on the way back.

    prog = Program()
    u = prog.input(np.random.randn(2, 4, 64), "f32")
    k = prog.input(np.random.randn(4, 64), "f32")
    y = prog.op(f"fftconv.conv causal {u}, {k} : ({prog.type_of(u)}, "
                f"{prog.type_of(k)}) -> {prog.type_of(u)}", prog.type_of(u))
    prog.output(y)
    (result,) = prog.run()
"""

import os
import re
import shutil
import subprocess
import tempfile

import numpy as np

from . import reference

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LLVM_ROOT = os.environ.get("FFTCONV_LLVM_ROOT", "/usr/lib/llvm-22")


class ExecutionError(RuntimeError):
    """A program failed to compile or run; carries the tool's diagnostics."""


def fftconv_opt_path():
    path = os.environ.get("FFTCONV_OPT", os.path.join(REPO_ROOT, "build", "bin", "fftconv-opt"))
    if not os.path.exists(path):
        raise ExecutionError(f"fftconv-opt not found at {path}: build the project first")
    return path


def mlir_runner_path():
    path = os.path.join(LLVM_ROOT, "bin", "mlir-runner")
    if os.path.exists(path):
        return path
    found = shutil.which("mlir-runner-22") or shutil.which("mlir-runner")
    if not found:
        raise ExecutionError("mlir-runner not found (install mlir-22-tools)")
    return found


def _runner_libs():
    lib = os.path.join(LLVM_ROOT, "lib")
    return [os.path.join(lib, "libmlir_runner_utils.so"), os.path.join(lib, "libmlir_c_runner_utils.so")]


def _hex_constant(array, element_type):
    """The dense hex literal of `array` stored as `element_type`."""
    if element_type == "f32":
        data = np.asarray(array, dtype="<f4").tobytes()
    elif element_type == "f16":
        data = np.asarray(array, dtype="<f2").tobytes()
    elif element_type == "bf16":
        data = reference.bf16_bits(array).astype("<u2").tobytes()
    elif element_type == "complex<f32>":
        data = np.asarray(array, dtype="<c8").tobytes()
    else:
        raise ValueError(f"unsupported element type {element_type!r}")
    return 'dense<"0x' + data.hex().upper() + '">'


def tensor_type(shape, element_type):
    return "tensor<" + "".join(f"{d}x" for d in shape) + element_type + ">"


_TYPE_RE = re.compile(r"tensor<((?:\d+x)*)([a-z0-9<>]+)>$")


def parse_tensor_type(text):
    match = _TYPE_RE.match(text.strip())
    if not match:
        raise ValueError(f"not a static tensor type: {text}")
    dims = tuple(int(d) for d in match.group(1).split("x") if d)
    return dims, match.group(2)


class Program:
    """A `func.func @program` assembled from inputs, op lines and outputs,
    called from a `func.func @main` that holds the input data and prints
    the outputs.

    Inputs are arguments of @program, so the compiler cannot fold them:
    what runs is the compiled code, not a compile-time evaluation. Values
    meant to be compile-time constants use `constant()`."""

    def __init__(self):
        self._lines = []
        self._types = {}
        self._outputs = []
        self._inputs = []
        self._counter = 0

    def _fresh(self, stem):
        self._counter += 1
        return f"%{stem}{self._counter}"

    def type_of(self, value):
        return self._types[value]

    def input(self, array, element_type):
        """A run-time input holding `array` as `element_type` (f32, f16,
        bf16 or complex<f32>); returns its SSA name in @program."""
        array = np.asarray(array)
        name = self._fresh("in")
        ty = tensor_type(array.shape, element_type)
        self._inputs.append((name, _hex_constant(array, element_type), ty))
        self._types[name] = ty
        return name

    def constant(self, array, element_type):
        """A compile-time constant inside @program; returns its SSA name."""
        array = np.asarray(array)
        name = self._fresh("cst")
        ty = tensor_type(array.shape, element_type)
        self._lines.append(f"{name} = arith.constant {_hex_constant(array, element_type)} : {ty}")
        self._types[name] = ty
        return name

    def op(self, text, result_type):
        """Appends `%r = <text>` to @program and records the result's type."""
        name = self._fresh("v")
        self._lines.append(f"{name} = {text}")
        self._types[name] = result_type
        return name

    def output(self, value):
        """Returns `value` from @program; run() gives the outputs in order."""
        self._outputs.append(value)

    def _print_lines(self, value, ty, part):
        dims, element = parse_tensor_type(ty)
        rank = len(dims)
        loops = ", ".join(f"d{i}" for i in range(rank))
        identity = f"affine_map<({loops}) -> ({loops})>"
        iterators = ", ".join(['"parallel"'] * rank)
        out_ty = tensor_type(dims, "i32")
        empty, bits = self._fresh("e"), self._fresh("bits")
        buf, cast = self._fresh("buf"), self._fresh("cast")
        body = []
        scalar = "%x"
        if element.startswith("complex"):
            op = "complex.re" if part == "re" else "complex.im"
            body.append(f"%p = {op} %x : {element}")
            scalar = "%p"
        elif element in ("f16", "bf16"):
            body.append(f"%p = arith.extf %x : {element} to f32")
            scalar = "%p"
        body.append(f"%b = arith.bitcast {scalar} : f32 to i32")
        body.append("linalg.yield %b : i32")
        memref_ty = out_ty.replace("tensor<", "memref<")
        return [
            f"{empty} = tensor.empty() : {out_ty}",
            f"{bits} = linalg.generic {{indexing_maps = [{identity}, {identity}], "
            f"iterator_types = [{iterators}]}} ins({value} : {ty}) "
            f"outs({empty} : {out_ty}) {{\n^bb0(%x: {element}, %o: i32):\n  "
            + "\n  ".join(body)
            + f"\n}} -> {out_ty}",
            f"{buf} = bufferization.to_buffer {bits} : {out_ty} to {memref_ty}",
            f"{cast} = memref.cast {buf} : {memref_ty} to memref<*xi32>",
            f"func.call @printMemrefI32({cast}) : (memref<*xi32>) -> ()",
        ]

    def text(self):
        args = ", ".join(f"{name}: {ty}" for name, _, ty in self._inputs)
        out_types = [self._types[v] for v in self._outputs]
        results = ", ".join(out_types)
        program = (
            f"  func.func @program({args}) -> ({results}) {{\n    "
            + "\n    ".join(self._lines)
            + f"\n    return {', '.join(self._outputs)} : {results}\n  }}\n"
        )
        main = []
        operands = []
        for name, literal, ty in self._inputs:
            main.append(f"{name} = arith.constant {literal} : {ty}")
            operands.append(name)
        outs = [self._fresh("r") for _ in self._outputs]
        main.append(
            f"{', '.join(outs)} = func.call @program({', '.join(operands)}) : "
            f"({', '.join(ty for _, _, ty in self._inputs)}) -> ({results})"
        )
        for value, ty in zip(outs, out_types):
            _, element = parse_tensor_type(ty)
            for part in (["re", "im"] if element.startswith("complex") else ["real"]):
                main.extend(self._print_lines(value, ty, part))
        return (
            "module {\n  func.func private @printMemrefI32(memref<*xi32>)\n"
            + program
            + "  func.func @main() {\n    "
            + "\n    ".join(main)
            + "\n    return\n  }\n}\n"
        )

    def run(self, pipeline="fftconv-to-cpu", extra_passes=()):
        """Compiles and runs the program; returns the outputs as float32 /
        complex64 numpy arrays."""
        printed = run_text(self.text(), pipeline=pipeline, extra_passes=extra_passes)
        results = []
        index = 0
        for value in self._outputs:
            dims, element = parse_tensor_type(self._types[value])
            if element.startswith("complex"):
                re_, im_ = printed[index], printed[index + 1]
                index += 2
                results.append((re_ + 1j * im_).astype(np.complex64).reshape(dims))
            else:
                results.append(printed[index].reshape(dims))
                index += 1
        return results


def conv_program(dtype, mode, u, k, pregate=None, postgate=None, skip=None, constant_kernel=False):
    """A Program computing fftconv.conv on the given arrays (u, gates in
    `dtype`; k and skip in f32) and printing y; the kernel is a compile-time
    constant with `constant_kernel`."""
    prog = Program()
    iu = prog.input(u, dtype)
    ik = prog.constant(k, "f32") if constant_kernel else prog.input(k, "f32")
    operands = f"{iu}, {ik}"
    types = [prog.type_of(iu), prog.type_of(ik)]
    for keyword, value, element in (("pregate", pregate, dtype), ("postgate", postgate, dtype), ("skip", skip, "f32")):
        if value is not None:
            name = prog.input(value, element)
            operands += f" {keyword} {name}"
            types.append(prog.type_of(name))
    ty = prog.type_of(iu)
    y = prog.op(f"fftconv.conv {mode} {operands} : ({', '.join(types)}) -> {ty}", ty)
    prog.output(y)
    return prog


def cost_table(order=0, complex_bytes=8, chip="sm_90", max_log2=22):
    """The cost model's choices (fftconv-cost-table) as {N: row dict}; a
    row's "fused factors" is "" where no factorization of `order` fits."""
    tool = os.path.join(os.path.dirname(fftconv_opt_path()), "fftconv-cost-table")
    cmd = [tool, f"--order={order}", f"--complex-bytes={complex_bytes}", f"--chip={chip}", f"--max-log2={max_log2}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    table = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        row = dict(zip(header, cells))
        if row.get("outer passes") == "none":
            row["fused factors"] = ""
        table[int(row["FFT size N"])] = row
    return table


def butterfly_pipeline(order="auto", chip="sm_90", smem_per_block=0):
    """The pass-pipeline element that decomposes and fuses convolutions."""
    return f"fftconv-to-butterfly{{order={order} chip={chip} smem-per-block={smem_per_block}}}"


_MEMREF_RE = re.compile(r"Unranked Memref base@ = \S+ rank = \d+ offset = \d+ sizes = \[[^\]]*\] strides = \[[^\]]*\] data =")


def compile_text(text, passes):
    """The IR after running the textual pass-pipeline elements `passes` on
    `text` (for inspecting what the compiler did)."""
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "program.mlir")
        with open(source, "w") as f:
            f.write(text)
        cmd = [fftconv_opt_path(), source, f"--pass-pipeline=builtin.module({','.join(passes)})"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise ExecutionError(f"fftconv-opt failed:\n{proc.stderr}")
        return proc.stdout


def run_text(text, pipeline="fftconv-to-cpu", extra_passes=()):
    """Runs MLIR `text` (a module with @main printing i32 memrefs of f32
    bits) through `extra_passes` then `pipeline` (textual pass pipeline
    elements, options in braces) and mlir-runner; returns the printed
    memrefs as flat float32 arrays."""
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "program.mlir")
        lowered = os.path.join(tmp, "lowered.mlir")
        with open(source, "w") as f:
            f.write(text)
        passes = ",".join(list(extra_passes) + [pipeline])
        cmd = [fftconv_opt_path(), source, "-o", lowered, f"--pass-pipeline=builtin.module({passes})"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise ExecutionError(f"fftconv-opt failed:\n{proc.stderr}")
        cmd = [mlir_runner_path(), lowered, "-e", "main", "--entry-point-result=void",
               "--shared-libs=" + ",".join(_runner_libs())]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise ExecutionError(f"mlir-runner failed:\n{proc.stderr}")
    chunks = _MEMREF_RE.split(proc.stdout)[1:]
    arrays = []
    for chunk in chunks:
        ints = np.array([int(v) for v in re.findall(r"-?\d+", chunk)], dtype=np.int64)
        arrays.append(ints.astype(np.int32).view(np.float32))
    return arrays
